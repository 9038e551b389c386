/** Writes a run's results into a folder: results.json, summary.md and report.html. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsToJson, type Results } from '../results/results.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { scenarioStory } from './story.ts';

export async function writeReport(results: Results, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'results.json');
  await writeFile(json, resultsToJson(results));
  return [json, ...(await writeViews(results, dir))];
}

/**
 * The readable views alone: what `lab report` renders again from a results file. Both open with the
 * scenario's story when its file is still there (see story.ts), else with the claim alone.
 */
export async function writeViews(results: Results, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const story = await scenarioStory(results);
  const markdown = join(dir, 'summary.md');
  const html = join(dir, 'report.html');
  await writeFile(markdown, renderMarkdown(results, { story }));
  await writeFile(html, renderHtml(results, { story }));
  return [markdown, html];
}
