/**
 * A Linux machine the namespace runtime drives as root: this one, or a VM reached through its agent.
 * Everything the runtime does (ip netns, sysctls, the lab's programs) goes through spawn.
 */
import type { ExecResult } from '../runtime.ts';

export type ProcessSignal = 'TERM' | 'KILL' | 'INT' | 'USR1' | 'USR2' | 'HUP';

export interface MachineProcess {
  /** The exit code once the process has ended; 128 + the signal's number when a signal ended it. */
  readonly exited: Promise<number>;
  /** Signals the process's whole process group (every process is started in a session of its own). */
  kill(signal: ProcessSignal): Promise<void>;
}

export interface Machine {
  /** Who this is, for messages: "this machine", "VM 6.1.0-28-amd64". */
  readonly description: string;
  /** Where the lab's programs (labserver, labclient, labchurn) are on that machine. */
  readonly programDir: string;
  /** Starts argv (found on PATH, with programDir first) in a new session; output streams as it comes. */
  spawn(argv: string[], onStdout: (chunk: string) => void, onStderr: (chunk: string) => void): Promise<MachineProcess>;
  /** Stops the machine if the lab started it (a VM); nothing for this machine. */
  close(): Promise<void>;
}

/** Runs argv to its end and gathers its output. */
export async function execOn(machine: Machine, argv: string[]): Promise<ExecResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const process = await machine.spawn(
    argv,
    (chunk) => stdout.push(chunk),
    (chunk) => stderr.push(chunk),
  );
  const exitCode = await process.exited;
  return { exitCode, stdout: stdout.join(''), stderr: stderr.join('') };
}
