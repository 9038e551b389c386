/**
 * `lab clean [--run <id>]`: removes what runs left behind, found by their marks, never guessed: every
 * registered runtime removes its own (Docker objects by their lab.run label, namespaces by their names,
 * VMs by their pid files, a conntrack ceiling a killed run left raised).
 *
 * A runtime that is not there (no Docker engine at all) has nothing left; one that could not look (no
 * permission on the Docker socket) may well have: that is said, and the exit code is 3, never "nothing left".
 */
import { EnvironmentError, InputError, LabError } from '../../errors.ts';
import { registeredRuntimes } from '../../runtime/runtimes.ts';
import { forget, isLive, ledgerRuns } from '../../run-ledger.ts';
import { EXIT } from '../exit-codes.ts';

/** The ids the lab makes (lab/run-id.ts: base 36 time and hex), and the lowercase, dashed ids tests give. */
const RUN_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) {
    const shown = id === '' ? 'is empty' : `"${id}" is not one`;
    throw new InputError(
      '--run',
      undefined,
      `takes a run id (lowercase letters, digits and dashes, such as mwxgpni3d229): ${shown}; nothing was removed`,
    );
  }
  return id;
}

export async function cleanCommand(flags: { run?: string; force?: boolean }): Promise<number> {
  // An empty id (an unset shell variable) must never mean "every run".
  const runId = flags.run === undefined ? undefined : checkRunId(flags.run);
  const log = (line: string) => process.stderr.write(`lab: ${line}\n`);
  const removed: string[] = [];
  const unseen: EnvironmentError[] = [];
  // A run whose lab process is alive is still going: its objects are not leftovers (unless --force).
  const live = new Set(flags.force ? [] : (await ledgerRuns()).filter(isLive));
  const keep = (id: string) => live.has(id);
  for (const id of live)
    if (runId === undefined || runId === id) log(`left run ${id} alone: its lab is still running (lab clean --force removes it anyway)`);
  for (const runtime of registeredRuntimes()) {
    try {
      removed.push(...(await runtime.removeLeftovers(runId, log, keep)));
    } catch (error) {
      if (!(error instanceof LabError) || error.kind !== 'environment') throw error;
      unseen.push(error);
    }
  }
  const scope = runId ? `run ${runId}` : 'any run';
  if (removed.length) process.stdout.write(`removed (${scope}): ${removed.join(', ')}\n`);
  if (unseen.length) {
    const [first] = unseen;
    if (unseen.length === 1) throw first;
    throw new EnvironmentError(unseen.map((e) => e.message).join('; '));
  }
  if (!removed.length) process.stdout.write(`nothing the lab made is left (${scope})\n`);
  for (const id of await ledgerRuns()) if (runId === undefined || runId === id) await forget(id);
  return EXIT.pass;
}
