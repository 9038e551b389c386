/**
 * `lab list [dir]`: scenarios, each loaded and validated. With a folder, the scenarios in it; without one,
 * the lab's own and this folder's (its scenarios/, and scenario files beside it as `lab new` writes them),
 * each group headed by where it comes from.
 */
import { readdir, readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../../errors.ts';
import { renderScenarioGroups, renderScenarioList, type ScenarioEntry } from '../../report/scenario-list.ts';
import { loadScenario, NoDefaultExport } from '../../scenario/load.ts';
import { describeError, EXIT } from '../exit-codes.ts';
import { labScenarios } from '../project.ts';

export async function listCommand(dir?: string): Promise<number> {
  const width = process.stdout.isTTY ? process.stdout.columns : undefined;
  if (dir !== undefined) {
    const names = await scenarioNames(dir);
    if (!names.length) throw new InputError(dir, undefined, 'holds no scenario (.ts) files');
    const { entries, broken } = await loadAll(names.map((name) => join(dir, name)));
    if (!entries.length && !broken) throw new InputError(dir, undefined, 'holds no scenario: none of its .ts files has a default export');
    if (entries.length) process.stdout.write(renderScenarioList(entries, width) + '\n');
    return broken ? EXIT.input : EXIT.pass;
  }
  const groups: Array<{ heading: string; entries: ScenarioEntry[] }> = [];
  let broken = 0;
  for (const folder of await defaultFolders()) {
    const loaded = await loadAll(folder.names.map((name) => join(folder.dir, name)));
    broken += loaded.broken;
    // Shown by name within the folder its heading names.
    const entries = loaded.entries.map(({ file, scenario }) => ({ file: relative(folder.dir, file), scenario }));
    if (entries.length) groups.push({ heading: folder.heading, entries });
  }
  if (groups.length) process.stdout.write(renderScenarioGroups(groups, width) + '\n');
  return broken ? EXIT.input : EXIT.pass;
}

interface ScenarioFolder {
  heading: string;
  dir: string;
  names: string[];
}

/** The lab's own scenarios/, then this folder's scenarios/ and this folder itself, unless one is the lab's (its checkout). */
async function defaultFolders(): Promise<ScenarioFolder[]> {
  const folders: ScenarioFolder[] = [
    { heading: `the lab's own scenarios (${shownFolder(labScenarios)})`, dir: labScenarios, names: await scenarioNames(labScenarios) },
  ];
  const own = realPath(labScenarios);
  const local = resolve('scenarios');
  if (realPath(local) !== own) {
    const names = await scenarioNames(local).catch(() => []);
    if (names.length) folders.push({ heading: `this folder's scenarios (${shownFolder(local)})`, dir: local, names });
  }
  const here = process.cwd();
  if (realPath(here) !== own) {
    const names = await scenarioLooking(here, await scenarioNames(here).catch(() => []));
    if (names.length) folders.push({ heading: `this folder's scenarios (${shownFolder(here)})`, dir: here, names });
  }
  return folders;
}

/** The .ts files in a folder, sorted. */
async function scenarioNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.name.endsWith('.ts') && !entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    throw new InputError(dir, undefined, 'no such folder');
  }
}

/**
 * Of a working folder's .ts files, those that mention a scenario: loading a file runs it, and the folder's
 * other TypeScript (configs, scripts) is no scenario to run or to call broken.
 */
async function scenarioLooking(dir: string, names: string[]): Promise<string[]> {
  const mentions = await Promise.all(
    names.map(async (name) => /defineScenario|lab\.scenario/.test(await readFile(join(dir, name), 'utf8').catch(() => ''))),
  );
  return names.filter((_, i) => mentions[i]);
}

/**
 * Each file loaded; a broken one is said on stderr and the others are still listed, the exit code telling CI.
 * A module that loads but has no default export is no scenario (a helper the scenarios import): not listed,
 * a quiet note on stderr, and no failure.
 */
async function loadAll(files: string[]): Promise<{ entries: ScenarioEntry[]; broken: number }> {
  const entries: ScenarioEntry[] = [];
  let broken = 0;
  for (const file of files) {
    try {
      entries.push({ file, scenario: await loadScenario(file) });
    } catch (error) {
      if (error instanceof NoDefaultExport) {
        process.stderr.write(`(${file}: not listed: no default export, so no scenario; a module the scenarios import?)\n`);
        continue;
      }
      if (!(error instanceof InputError)) throw error;
      process.stderr.write(describeError(error) + '\n');
      broken++;
    }
  }
  return { entries, broken };
}

/** A folder as typed from here: relative when inside the working folder, else absolute. */
function shownFolder(dir: string): string {
  const inside = relative(process.cwd(), dir);
  if (inside === '') return `.${sep}`;
  return inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside) ? `${dir}${sep}` : `${inside}${sep}`;
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
