/**
 * The scenario's story (what `lab explain` prints) for the top of a report. Results files do not carry it:
 * it is read from the scenario file the run names (results.file), when that file is still there and still
 * defines the scenario the run ran. Otherwise the report shows the claim alone.
 */
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results } from '../results/results.ts';
import { loadScenario } from '../scenario/load.ts';

/** The lab's own checkout: runs name their scenario file relative to the folder they were started in, usually this. */
const LAB_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

export async function scenarioStory(results: Results, roots: readonly string[] = [process.cwd(), LAB_ROOT]): Promise<string | undefined> {
  const file = scenarioFile(results.file, roots);
  if (!file) return undefined;
  try {
    const scenario = await loadScenario(file);
    return scenario.name === results.scenario ? scenario.story?.trim() || undefined : undefined;
  } catch {
    return undefined; // changed or broken since the run: the claim alone, as for a file that is gone
  }
}

/** The first existing scenario module the results' path names, absolute or under one of the roots. */
function scenarioFile(named: string, roots: readonly string[]): string | undefined {
  if (!SCENARIO_EXTENSIONS.has(extname(named))) return undefined;
  const candidates = isAbsolute(named) ? [named] : roots.map((root) => resolve(root, named));
  return candidates.find((path) => existsSync(path));
}

/** A story as written in a scenario (hard-wrapped lines, blank lines between paragraphs): its paragraphs. */
export function storyParagraphs(story: string): string[] {
  return story
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, ' ').trim())
    .filter(Boolean);
}
