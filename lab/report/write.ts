/** Writes a run's results into a folder: results.json (more formats join here). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsToJson, type Results } from '../results/results.ts';

export async function writeReport(results: Results, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'results.json');
  await writeFile(json, resultsToJson(results));
  return [json];
}
