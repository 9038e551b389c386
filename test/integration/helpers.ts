/** Shared by the integration tests: one real engine, the lab's CLI as a user runs it, and leak checks. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Docker from 'dockerode';
import { DockerRuntime } from '../../lab/runtime/docker/docker-runtime.ts';
import { RUN_LABEL } from '../../lab/runtime/docker/labels.ts';
import { newRunId } from '../../lab/run-id.ts';
import { isLive } from '../../lab/run-ledger.ts';
import type { Results } from '../../lab/results/results.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const runtime = new DockerRuntime(projectRoot);
let prepared: Promise<void> | undefined;

/** Engine, base image and lab images, once for the whole test run (the first call may take minutes). */
export function prepareRuntime(): Promise<void> {
  prepared ??= (async () => {
    const session = runtime.open(`prep${newRunId()}`);
    try {
      await session.prepare((line) => console.log(`      (setup) ${line}`));
    } finally {
      await session.close();
    }
  })();
  return prepared;
}

/**
 * What is labelled with the run (or, without one, with any run but those still going: another lab on this
 * machine, a developer's demo beside the tests, is not a leftover of ours). A test that holds a run of its
 * own mid-way counts what it has made by the run's id (runIdIn).
 */
export async function labelledObjects(runId?: string): Promise<{ containers: string[]; networks: string[] }> {
  const docker = new Docker();
  const filters = JSON.stringify({ label: [runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL] });
  const counted = (labels: Record<string, string> | undefined) => runId !== undefined || !isLive(labels?.[RUN_LABEL] ?? '');
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => counted(c.Labels));
  const networks = (await docker.listNetworks({ filters })).filter((n) => counted(n.Labels));
  return { containers: containers.map((c) => c.Names.join(',')), networks: networks.map((n) => n.Name) };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function lab(args: string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, ['bin/lab.js', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const fixture = (name: string) => `test/fixtures/scenarios/${name}`;

export interface LabProcess {
  readonly pid: number;
  output(): string;
  /** Resolves with the first match of the pattern in stdout+stderr; fails after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<CliResult>;
}

/** Starts `lab` without waiting, so a test can act on it mid-run (signal it, kill a container under it). */
export function startLab(args: string[], env: Record<string, string> = {}): LabProcess {
  const child = spawn(process.execPath, ['bin/lab.js', ...args], { cwd: projectRoot, env: { ...process.env, CI: 'true', ...env } });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), changed()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), changed()));
  const exited = new Promise<CliResult>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return {
    pid: child.pid!,
    output: () => stdout + stderr,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = (stdout + stderr).match(pattern);
          if (!match) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`lab exited before ${pattern}; output:\n${stdout}\n${stderr}`));
        });
      }),
    signal: (signal) => child.kill(signal),
    exited,
  };
}

/** The container of one host of one run, found by labels (never by name guesses). */
export async function containerOf(runId: string, host: string): Promise<Docker.Container> {
  const docker = new Docker();
  const [found] = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${RUN_LABEL}=${runId}`, `lab.host=${host}`] }) });
  if (!found) throw new Error(`no container for ${host} in run ${runId}`);
  return docker.getContainer(found.Id);
}

/**
 * Stops the run's labserver processes (SIGSTOP) for a while, then lets them go on (SIGCONT, also when the
 * stop failed half way): a server stalled mid-hold. Resolves with the pids it stopped.
 */
export async function stallServer(runId: string, ms: number): Promise<number[]> {
  const server = await containerOf(runId, 'server');
  const top = (await server.top()) as { Titles: string[]; Processes: string[][] };
  const pid = top.Titles.indexOf('PID');
  const command = top.Titles.indexOf('CMD');
  const stopped = top.Processes.filter((p) => /^labserver /.test(p[command] ?? '')).map((p) => Number(p[pid]));
  if (!stopped.length) throw new Error(`no labserver process in the server: ${JSON.stringify(top)}`);
  try {
    stopped.forEach((p) => process.kill(p, 'SIGSTOP'));
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    stopped.forEach((p) => {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // Gone already: the run tore its server down.
      }
    });
  }
  return stopped;
}

/** A client's line in the CI view once it has filled (the hold starts once every client has). */
const FILLED = (client: number) => new RegExp(`client-${client}: \\[[#.]+\\] [\\d,]+/[\\d,]+, filled`);

/**
 * `lab run <args>` with its server stalled mid-hold: once every client has filled and the hold has gone on
 * for 1.5 s (it begins once the server has accepted every connection, under a second here, so Pongs in time
 * come before the stall), labserver is stopped for stallMs. Resolves with how the run ended and its results.
 */
export async function runWithServerStalled(
  args: string[],
  clients: number,
  stallMs: number,
): Promise<{ run: CliResult; results: Results; runId: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-stall-'));
  try {
    const running = startLab(['run', ...args, '--report', dir]);
    for (let client = 1; client <= clients; client++) await running.waitFor(FILLED(client));
    const runId = runIdIn(running.output());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await stallServer(runId, stallMs)).to.not.be.empty;
    const run = await running.exited;
    return { run, results: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results, runId };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function execIn(container: Docker.Container, argv: string[]): Promise<{ exitCode: number; stdout: string }> {
  const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: string[] = [];
  const out = new PassThrough().setEncoding('utf8').on('data', (d: string) => chunks.push(d));
  new Docker().modem.demuxStream(stream, out, new PassThrough());
  await new Promise((resolve) => stream.on('end', resolve));
  return { exitCode: (await exec.inspect()).ExitCode ?? -1, stdout: chunks.join('') };
}

export const runIdIn = (output: string): string => {
  const match = /Network lab-([a-z0-9]+) /.exec(output);
  if (!match) throw new Error(`no run id in output:\n${output}`);
  return match[1]!;
};

/** The pids of qemu processes the lab started (`-name lab-<id>`): of one run, or of any. */
export function labQemus(runId?: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        const name = argv[argv.indexOf('-name') + 1] ?? '';
        return !!argv[0]?.includes('qemu-system') && (runId ? name === `lab-${runId}` : name.startsWith('lab-'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The network namespaces on this machine whose names start with the prefix (`lab-`: runs; `labswarm-`: the local swarm). */
export function namespacesNamed(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(prefix));
}

/** A scenario of scenarios/ explains itself, runs in quick mode with every verdict held, and leaves nothing; its results. */
export async function expectQuickRunHolds(file: string, dir: string): Promise<any> {
  const explain = lab(['explain', `scenarios/${file}`]);
  expect(explain.status, explain.stderr).to.equal(0);
  expect(explain.stdout).to.match(/^Case 1\//m);
  const json = join(dir, `${file}.json`);
  const run = lab(['run', `scenarios/${file}`, '--quick', '--json', json], { CI: 'true' });
  const results = JSON.parse(readFileSync(json, 'utf8'));
  const failed = results.cases.flatMap((c: any) =>
    c.expectations
      .filter((e: any) => !e.pass)
      .map((e: any) => `${c.name}: ${e.claim} (${e.host}): predicted ${JSON.stringify(e.predicted)}, measured ${e.measured}`),
  );
  expect(failed, run.stdout.slice(-3000)).to.deep.equal([]);
  expect(run.status).to.equal(0);
  expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  return results;
}
