/**
 * JUnit XML, what CI systems read: a test suite per run (scenario and kernel), a test case per expectation
 * and host. A failed expectation is a <failure>, an invalid one (not measured, host lost) an <error>.
 */
import type { Results } from '../results/results.ts';
import { formatPrediction } from '../scenario/theory/prediction.ts';
// Safe text, escaped: XML 1.0 forbids most control characters even as &#x1b;, so they come out as "\x1b".
import { escapeHtml as xml } from './escape.ts';
import { measuredText } from './facts.ts';

export function junitXml(runs: readonly Results[]): string {
  const suites = runs.map((r) => {
    const rows = r.cases.flatMap((c) => c.expectations.map((e) => ({ c, e })));
    const failures = rows.filter(({ e }) => !e.invalid && !e.pass).length;
    const errors = rows.filter(({ e }) => e.invalid).length;
    const seconds = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    const cases = rows.map(({ c, e }) => {
      const name = `${e.claim} (${e.host})`;
      const detail = `predicted ${formatPrediction(e.predicted)}, measured ${measuredText(e)}`;
      const body = e.notApplicable
        ? `<skipped message="${xml(`does not apply: ${e.notApplicable}`)}"/>`
        : e.invalid
          ? `<error message="${xml(e.invalid)}">${xml(detail)}</error>`
          : e.pass
            ? ''
            : `<failure message="${xml(detail)}">${xml(`${e.metric} on ${e.host}: ${detail}`)}</failure>`;
      return `    <testcase classname="${xml(`${r.scenario}.${c.name}`)}" name="${xml(name)}">${body}</testcase>`;
    });
    const suite = `${r.scenario} on ${r.environment.kernel}${r.quick ? ' (quick)' : ''}`;
    return [
      `  <testsuite name="${xml(suite)}" tests="${rows.length}" failures="${failures}" errors="${errors}" time="${Number.isFinite(seconds) ? seconds : 0}" timestamp="${xml(r.startedAt)}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="tcp-limits-lab">', ...suites, '</testsuites>', ''].join('\n');
}
