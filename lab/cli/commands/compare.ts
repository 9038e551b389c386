/** `lab compare <a.json> <b.json> [...more]`: runs side by side; exits 1 when a verdict differs (for CI). */
import { writeFile } from 'node:fs/promises';
import { compareRuns, comparisonMarkdown, renderComparison } from '../../report/compare.ts';
import { readResults } from '../../report/read.ts';
import { InputError } from '../../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { checkOutputPath } from '../output-paths.ts';

export async function compareCommand(files: string[], flags: { markdown?: string }): Promise<number> {
  if (flags.markdown)
    checkOutputPath({
      flag: '--markdown',
      path: flags.markdown,
      kind: 'file',
      inputs: files.map((path) => ({ path, what: `${path}, a results file compared` })),
    });
  const runs = await Promise.all(files.map(async (file) => ({ file, results: await readResults(file) })));
  // Runs of one scenario on several kernels: two scenarios side by side would set unrelated verdicts together.
  const other = runs.find((r) => r.results.scenario !== runs[0]!.results.scenario);
  if (other) {
    const first = runs[0]!;
    throw new InputError(
      other.file,
      undefined,
      `is a run of scenario "${other.results.scenario}", ${first.file} of "${first.results.scenario}": compare runs of one scenario`,
    );
  }
  const comparison = compareRuns(runs);
  process.stdout.write(renderComparison(comparison) + '\n');
  if (flags.markdown) {
    await writeFile(flags.markdown, comparisonMarkdown(comparison));
    process.stdout.write(`markdown: ${flags.markdown}\n`);
  }
  // A verdict that changes between kernels is what CI watches for: the same code as a failed expectation.
  return comparison.verdictsDiffer ? EXIT.expectationFailed : EXIT.pass;
}
