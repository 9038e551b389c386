import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { sleep, within } from '../../abort.ts';
import type { PlannedHost } from '../../plan/plan.ts';
import type { ExecResult, Host, RunningProgram } from '../runtime.ts';

/** A started container seen through the Host interface: exec for reading, spawn for the programs. */
export class DockerHost implements Host {
  constructor(
    private readonly docker: Docker,
    readonly container: Docker.Container,
    readonly plan: PlannedHost,
    readonly memoryCgroup: { tcpAccounted: boolean },
    readonly node?: string,
  ) {}

  async exec(argv: string[]): Promise<ExecResult> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const run = await this.start(
      argv,
      (chunk) => stdout.push(chunk),
      (chunk) => stderr.push(chunk),
    );
    const exitCode = await run.exited;
    return { exitCode, stdout: stdout.join(''), stderr: stderr.join('') };
  }

  async spawn(argv: string[], onLine: (line: string) => void): Promise<RunningProgram> {
    const stderr: string[] = [];
    let partial = '';
    const run = await this.start(
      argv,
      (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onLine(line);
      },
      (chunk) => stderr.push(chunk),
    );
    const program = argv[0]!;
    return {
      exited: run.exited.then((code) => {
        if (partial.trim()) onLine(partial);
        return code;
      }),
      signal: async (signal) => {
        await this.exec(['pkill', `-${signal}`, '-x', program]).catch(() => undefined);
      },
      stderr: () => stderr.join(''),
    };
  }

  async alive(): Promise<boolean> {
    const info = await this.container.inspect().catch(() => undefined);
    return !!info?.State.Running;
  }

  async exists(): Promise<boolean> {
    return this.container.inspect().then(
      () => true,
      (error: { statusCode?: number }) => error.statusCode !== 404,
    );
  }

  async remove(): Promise<void> {
    await removeContainer(this.container);
  }

  private async start(argv: string[], onStdout: (s: string) => void, onStderr: (s: string) => void): Promise<{ exited: Promise<number> }> {
    const exec = await this.container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    out.setEncoding('utf8').on('data', onStdout);
    err.setEncoding('utf8').on('data', onStderr);
    this.docker.modem.demuxStream(stream, out, err);
    // A container killed under the program ends the stream; the exit code is then unknown (-1).
    const exited = new Promise<number>((resolve) => {
      const end = () => {
        out.end();
        err.end();
        exec.inspect().then(
          (info) => resolve(info.ExitCode ?? -1),
          () => resolve(-1),
        );
      };
      stream.on('error', end);
      stream.on('end', end);
    });
    return { exited };
  }
}

const REMOVE_ATTEMPTS = 10;
const EXIT_WAIT_MS = 60_000;

/**
 * Kills a container, waits until the engine has seen it exit, then removes it. A forced remove of a running
 * container with tens of thousands of sockets races the engine's own clean-up of its exit ("did not receive
 * an exit event", then a second remove): Docker 20.10 can then leak the network's endpoint count, and the
 * network can never be removed until dockerd restarts. Waiting for the exit first leaves one clean-up.
 */
export async function removeContainer(container: Docker.Container): Promise<void> {
  await container.kill().catch(() => undefined);
  await within(
    container.wait({ condition: 'not-running' }).catch(() => undefined),
    EXIT_WAIT_MS,
  );
  for (let attempt = 1; ; attempt++) {
    try {
      await container.remove({ force: true, v: true });
      return;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) return;
      if (attempt >= REMOVE_ATTEMPTS || (status !== 409 && status !== 500)) throw error;
      await sleep(1000 * attempt);
    }
  }
}
