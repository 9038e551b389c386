/** `lab list [dir]`: the scenarios in a folder (scenarios/ by default), each loaded and validated. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';
import { renderScenarioList } from '../../report/scenario-list.ts';
import { loadScenario } from '../../scenario/load.ts';
import type { Scenario } from '../../scenario/types.ts';
import { describeError, EXIT } from '../exit-codes.ts';

export async function listCommand(dir = 'scenarios'): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort();
  } catch {
    throw new InputError(dir, undefined, 'no such folder');
  }
  if (!names.length) throw new InputError(dir, undefined, 'holds no scenario (.ts) files');
  const entries: Array<{ file: string; scenario: Scenario }> = [];
  let broken = 0;
  // A broken file is said on stderr and the others are still listed; the exit code tells CI.
  for (const file of names.map((name) => join(dir, name))) {
    try {
      entries.push({ file, scenario: await loadScenario(file) });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      process.stderr.write(describeError(error) + '\n');
      broken++;
    }
  }
  if (entries.length) process.stdout.write(renderScenarioList(entries, process.stdout.isTTY ? process.stdout.columns : undefined) + '\n');
  return broken ? EXIT.input : EXIT.pass;
}
