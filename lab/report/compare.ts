/**
 * Runs side by side (one kernel against another, say): per case and expectation the measured value and
 * verdict of each run, and what differs in the environments. Pure: `lab compare` reads and prints.
 */
import type { ComparedRun } from '../results/runs.ts';
import type { ExpectationResult, Results } from '../results/results.ts';
import { environmentFacts, expectationVerdict, measuredFigure, measuredText, predictionText } from './facts.ts';
import { markdownTable } from './markdown.ts';
import { table } from './table.ts';

export interface RunColumn {
  /** The run's kernel release, made unique with "#n" when two runs share one. */
  label: string;
  file: string;
  runId: string;
}

/** One expectation (case, claim, host) across the runs; a cell is missing where a run lacks it. */
export interface ComparisonRow {
  caseName: string;
  claim: string;
  host: string;
  cells: Array<ExpectationResult | undefined>;
  verdictsDiffer: boolean;
  measuredDiffer: boolean;
}

/** Something about the environments that is not the same in every run: one value per run ('' if absent). */
export interface EnvironmentDifference {
  what: string;
  values: string[];
}

export interface Comparison {
  runs: RunColumn[];
  environment: EnvironmentDifference[];
  rows: ComparisonRow[];
  /** True when any expectation's verdict (or its presence) differs between runs. */
  verdictsDiffer: boolean;
}

export function compareRuns(runs: readonly ComparedRun[]): Comparison {
  const rows = expectationKeys(runs).map(({ caseName, claim, host }) => {
    const cells = runs.map((r) => r.results.cases.find((c) => c.name === caseName)?.expectations.find((e) => e.claim === claim && e.host === host));
    return {
      caseName,
      claim,
      host,
      cells,
      verdictsDiffer: !allSame(cells.map((e) => (e ? expectationVerdict(e) : 'missing'))),
      // As measured, to the last digit: the written figure (28,231) rounds.
      measuredDiffer: !allSame(cells.map((e) => (e ? measuredText(e) : 'missing'))),
    };
  });
  return {
    runs: columns(runs),
    environment: [...fingerprintDifferences(runs), ...sysctlDifferences(runs)],
    rows,
    verdictsDiffer: rows.some((r) => r.verdictsDiffer),
  };
}

/** Every (case, claim, host) of any run, in the order the runs first give them. */
function expectationKeys(runs: readonly ComparedRun[]): Array<{ caseName: string; claim: string; host: string }> {
  const keys = new Map<string, { caseName: string; claim: string; host: string }>();
  for (const run of runs) {
    for (const c of run.results.cases) {
      for (const e of c.expectations) keys.set(JSON.stringify([c.name, e.claim, e.host]), { caseName: c.name, claim: e.claim, host: e.host });
    }
  }
  return [...keys.values()];
}

function columns(runs: readonly ComparedRun[]): RunColumn[] {
  const kernels = runs.map((r) => r.results.environment.kernel);
  return runs.map((r, i) => ({
    label: kernels.filter((k) => k === kernels[i]).length > 1 ? `${kernels[i]} #${i + 1}` : kernels[i]!,
    file: r.file,
    runId: r.results.runId,
  }));
}

/** Run id, file and times always differ between runs: they say which run, not how it ran. */
const NOT_ENVIRONMENT = new Set(['run', 'scenario file', 'started', 'finished']);

function fingerprintDifferences(runs: readonly ComparedRun[]): EnvironmentDifference[] {
  const facts = runs.map((r) => new Map(environmentFacts(r.results)));
  const labels = [...facts[0]!.keys()].filter((label) => !NOT_ENVIRONMENT.has(label));
  return labels.map((what) => ({ what, values: facts.map((f) => f.get(what) ?? '') })).filter((d) => !allSame(d.values));
}

/** Sysctls read back that differ for a host, said once with the cases where they differ. */
function sysctlDifferences(runs: readonly ComparedRun[]): EnvironmentDifference[] {
  const found = new Map<string, { host: string; key: string; values: string[]; cases: string[] }>();
  const caseNames = [...new Set(runs.flatMap((r) => r.results.cases.map((c) => c.name)))];
  for (const caseName of caseNames) {
    const hostsPerRun = runs.map((r) => r.results.cases.find((c) => c.name === caseName)?.hosts ?? []);
    const hostNames = [...new Set(hostsPerRun.flat().map((h) => h.name))];
    for (const host of hostNames) {
      const sysctlsPerRun = hostsPerRun.map((hosts) => hosts.find((h) => h.name === host)?.sysctls);
      if (sysctlsPerRun.some((s) => s === undefined)) continue; // a host one run lacks: its rows say so
      const keys = [...new Set(sysctlsPerRun.flatMap((s) => Object.keys(s!)))];
      for (const key of keys) {
        const values = sysctlsPerRun.map((s) => s![key] ?? '');
        if (allSame(values)) continue;
        const id = JSON.stringify([host, key, values]);
        const entry = found.get(id) ?? { host, key, values, cases: [] };
        entry.cases.push(caseName);
        found.set(id, entry);
      }
    }
  }
  return [...found.values()].map((d) => ({
    what: `${d.host} ${d.key} (${d.cases.length === caseNames.length ? 'every case' : d.cases.map((c) => `"${c}"`).join(', ')})`,
    values: d.values,
  }));
}

function allSame<T>(values: T[]): boolean {
  return values.every((v) => v === values[0]);
}

/** "1,000 pass" / "999 FAIL" / "- INVALID: ..." / "-" for a run without that expectation. */
function cellText(e: ExpectationResult | undefined): string {
  return e ? `${measuredFigure(e)} ${expectationVerdict(e)}` : '-';
}

/** Marks a row: "verdict" when verdicts differ (what fails CI), "measured" when only the numbers do. */
function rowMark(row: ComparisonRow): string {
  return row.verdictsDiffer ? 'VERDICT DIFFERS' : row.measuredDiffer ? 'measured differs' : '';
}

function predictedText(row: ComparisonRow): string {
  return [...new Set(row.cells.map((e) => (e ? predictionText(e.predicted) : '')).filter(Boolean))].join(' / ');
}

export function renderComparison(comparison: Comparison): string {
  const out = ['Runs:'];
  comparison.runs.forEach((r, i) => out.push(`  ${i + 1}. ${r.label}: ${r.file} (run ${r.runId})`));
  out.push(
    '',
    comparison.environment.length ? 'Environment differences:' : 'Environment: the same in every run (kernel, engine, images, sysctls read back)',
  );
  for (const d of comparison.environment) out.push(`  ${d.what}: ${d.values.join(' | ')}`);
  const caseNames = [...new Set(comparison.rows.map((r) => r.caseName))];
  for (const caseName of caseNames) {
    out.push('', caseName);
    const rows = comparison.rows.filter((r) => r.caseName === caseName);
    out.push(
      ...table([
        ['expectation', 'host', 'predicted', ...comparison.runs.map((r) => r.label), ''],
        ...rows.map((r) => [r.claim, r.host, predictedText(r), ...r.cells.map(cellText), rowMark(r)]),
      ]),
    );
  }
  out.push('', verdictLine(comparison));
  return out.join('\n');
}

export function comparisonMarkdown(comparison: Comparison): string {
  const out = ['# Runs compared', ''];
  out.push(...markdownTable([['column', 'file', 'run'], ...comparison.runs.map((r) => [r.label, r.file, r.runId])]), '');
  out.push('## Environment differences', '');
  if (!comparison.environment.length) out.push('None: the same kernel, engine, images and sysctls read back.');
  else out.push(...markdownTable([['what', ...comparison.runs.map((r) => r.label)], ...comparison.environment.map((d) => [d.what, ...d.values])]));
  for (const caseName of new Set(comparison.rows.map((r) => r.caseName))) {
    const rows = comparison.rows.filter((r) => r.caseName === caseName);
    out.push('', `## ${caseName}`, '');
    out.push(
      ...markdownTable([
        ['expectation', 'host', 'predicted', ...comparison.runs.map((r) => r.label), 'differs'],
        ...rows.map((r) => [r.claim, r.host, predictedText(r), ...r.cells.map(cellText), rowMark(r) ? `**${rowMark(r)}**` : '']),
      ]),
    );
  }
  out.push('', `**${verdictLine(comparison)}**`, '');
  return out.join('\n');
}

function verdictLine(comparison: Comparison): string {
  const differ = comparison.rows.filter((r) => r.verdictsDiffer).length;
  const measured = comparison.rows.filter((r) => !r.verdictsDiffer && r.measuredDiffer).length;
  if (differ) return `VERDICTS DIFFER in ${differ} of ${comparison.rows.length} expectations`;
  return `Same verdicts in all ${comparison.rows.length} expectations${measured ? ` (measured values differ in ${measured})` : ''}`;
}
