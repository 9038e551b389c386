/**
 * Every report the lab writes, one line each: its name, its file, what it renders from, and the function (in
 * its own module) that renders it. `lab run` and `lab matrix` write each view whose source they have, `lab
 * report` a run's again (write.ts). A new report is its module and a line here.
 */
import { resultsToJson, type Results } from '../results/results.ts';
import { renderHtml } from './html.ts';
import { junitXml } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import type { Matrix } from './matrix.ts';
import { matrixHtml } from './matrix-html.ts';
import { kernelUpgradeMarkdown, matrixMarkdown } from './matrix-markdown.ts';

/** What views render from: `lab run` has a run (and its runs are that one), `lab matrix` a matrix and its runs. */
export interface ViewSources {
  /** One run's results, and its scenario's story where the scenario file is still there (story.ts). */
  run: { results: Results; story: string | undefined };
  matrix: Matrix;
  /** Every run's results: lab run's one, lab matrix's all. */
  runs: readonly Results[];
}

interface ViewOf<From extends keyof ViewSources> {
  readonly name: string;
  /** Its file in the report's folder; a view without one is written only to a file the user names for it. */
  readonly file?: string;
  readonly from: From;
  /** The run's own record: what `lab report` renders the others again from, so it does not write it. */
  readonly record?: true;
  readonly render: (source: ViewSources[From]) => string;
}

export type ReportView = { [From in keyof ViewSources]: ViewOf<From> }[keyof ViewSources];

export const VIEWS = [
  { name: 'results', file: 'results.json', from: 'run', record: true, render: ({ results }) => resultsToJson(results) },
  { name: 'summary', file: 'summary.md', from: 'run', render: ({ results, story }) => renderMarkdown(results, { story }) },
  { name: 'html', file: 'report.html', from: 'run', render: ({ results, story }) => renderHtml(results, { story }) },
  { name: 'matrix-markdown', file: 'matrix.md', from: 'matrix', render: matrixMarkdown },
  { name: 'kernel-upgrade', file: 'kernel-upgrade.md', from: 'matrix', render: kernelUpgradeMarkdown },
  { name: 'matrix-html', file: 'matrix.html', from: 'matrix', render: matrixHtml },
  { name: 'junit', from: 'runs', render: junitXml },
] as const satisfies readonly ReportView[];

/** A view's name, as a command names a file the user chose for it. */
export type ViewName = (typeof VIEWS)[number]['name'];
