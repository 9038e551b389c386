/** This machine as a Machine: processes started with node's child_process, each in a session of its own. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Machine, MachineProcess, ProcessSignal } from './machine.ts';

export class LocalMachine implements Machine {
  readonly description = 'this machine';

  constructor(readonly programDir: string) {}

  async spawn(argv: string[], onStdout: (chunk: string) => void, onStderr: (chunk: string) => void): Promise<MachineProcess> {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${this.programDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
    child.stdout.setEncoding('utf8').on('data', onStdout);
    child.stderr.setEncoding('utf8').on('data', onStderr);
    const exited = new Promise<number>((resolve) => {
      child.on('error', (error) => {
        onStderr(`${argv[0]}: ${error.message}\n`);
        resolve(127);
      });
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
    return {
      exited,
      kill: async (signal: ProcessSignal) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, `SIG${signal}`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      },
    };
  }

  async close(): Promise<void> {}
}
