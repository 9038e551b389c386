/** A server program of the scenario's own: it says nothing to the lab, so its kernel's listeners tell when it is ready. */
import { sleep } from '../abort.ts';
import { RuntimeFailure } from '../errors.ts';
import { checkListeners, elsewhereProblem, parseListeners, programListeners, type Listener } from '../collect/listeners.ts';
import { readProcesses } from '../collect/processes.ts';
import type { Host, RunningProgram } from '../runtime/runtime.ts';
import type { HostProcess, ServerTheory } from '../scenario/types.ts';

/** How long a server program listening only where the clients cannot reach (127.0.0.1) gets to listen where they can. */
const ELSEWHERE_GRACE_MS = 2_000;

/**
 * Ready once the server's kernel lists a listener the clients can reach (on the server's address, or on any)
 * on each of its ready ports; one that listens only elsewhere (127.0.0.1) is named. Then its processes and
 * listeners are read for the theory.
 */
export async function awaitOwnServer(
  host: Host,
  program: RunningProgram,
  ready: { ports: number[]; timeoutSeconds: number },
): Promise<{ processes: HostProcess[]; listeners: ServerTheory['listeners'] }> {
  const { ports, timeoutSeconds } = ready;
  const command = host.plan.customProgram!.command.join(' ');
  let listeners: Listener[] = [];
  const check = async () => checkListeners((listeners = parseListeners((await host.exec(['ss', '-Htlnp'])).stdout)), ports, host.plan.ip);
  let exitCode: number | undefined;
  void program.exited.then((code) => (exitCode = code));
  const deadline = performance.now() + timeoutSeconds * 1000;
  let elsewhereSince: number | undefined;
  for (let found = await check(), left = found.unreachable; left.length; found = await check(), left = found.unreachable) {
    const what = `port${left.length > 1 ? 's' : ''} ${left.join(', ')}`;
    if (exitCode !== undefined) {
      throw new RuntimeFailure(
        `the server program (${command}) on ${host.plan.ip} exited (code ${exitCode}) before it listened on ${what}: ${program.stderr().trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
      );
    }
    // Every port held, some only where the clients cannot reach: a moment for the right listener, then said.
    const onlyElsewhere = left.every((port) => listeners.some((l) => l.port === port));
    elsewhereSince = onlyElsewhere ? (elsewhereSince ?? performance.now()) : undefined;
    const late = performance.now() > deadline;
    if (found.elsewhere.length && (late || (elsewhereSince !== undefined && performance.now() - elsewhereSince > ELSEWHERE_GRACE_MS))) {
      throw new RuntimeFailure(elsewhereProblem(host.plan.name, found, host.plan.ip));
    }
    if (late) {
      throw new RuntimeFailure(
        `the server program (${command}) on ${host.plan.ip} never listened on ${what}: waited ${timeoutSeconds} s (server.program.ready.timeoutSeconds)`,
      );
    }
    await sleep(200);
  }
  return { processes: await readProcesses(host), listeners: programListeners(listeners) };
}
