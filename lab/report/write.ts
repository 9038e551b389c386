/** Writes the views (views.ts) whose source a command has: into the report's folder, and to files the user names. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Results } from '../results/results.ts';
import { scenarioStory } from './story.ts';
import { VIEWS, type ReportView, type ViewName, type ViewSources } from './views.ts';

export interface ViewTargets {
  /** The report's folder, made when missing: every view with a file name is written there. */
  readonly folder: string;
  /** A file the user named for a view (--junit <file>), written besides its file in the folder, if it has one. */
  readonly named?: Partial<Record<ViewName, string>>;
}

/**
 * Renders every view whose source is given and writes it: the folder's files first, then the named ones,
 * each in the table's order. Says where it wrote, in that order.
 */
export async function writeViews(sources: Partial<ViewSources>, targets: ViewTargets, views: readonly ReportView[] = VIEWS): Promise<string[]> {
  const named: Partial<Record<string, string>> = targets.named ?? {};
  const given = views.filter((view) => sources[view.from] !== undefined);
  const files = [
    ...given.flatMap((view) => (view.file ? [{ view, path: join(targets.folder, view.file) }] : [])),
    ...given.flatMap((view) => (named[view.name] ? [{ view, path: resolve(named[view.name]!) }] : [])),
  ];
  for (const { view, path } of files) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, render(view, sources));
  }
  return files.map((f) => f.path);
}

/** What a run's views render from. Both readable views open with the scenario's story when its file is still there (see story.ts). */
export async function runSources(results: Results): Promise<Pick<ViewSources, 'run' | 'runs'>> {
  return { run: { results, story: await scenarioStory(results) }, runs: [results] };
}

function render(view: ReportView, sources: Partial<ViewSources>): string {
  // The table pairs each view's render function with its source's type; TypeScript cannot follow that pairing through a union.
  return (view.render as (source: ViewSources[keyof ViewSources] | undefined) => string)(sources[view.from]);
}
