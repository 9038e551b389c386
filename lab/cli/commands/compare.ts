/** `lab compare <a.json> <b.json> [...more]`: runs side by side; exits 1 when a verdict differs (for CI). */
import { writeFile } from 'node:fs/promises';
import { compareRuns, comparisonMarkdown, renderComparison } from '../../report/compare.ts';
import { readResults } from '../../report/read.ts';
import { EXIT } from '../exit-codes.ts';

export async function compareCommand(files: string[], flags: { markdown?: string }): Promise<number> {
  const runs = await Promise.all(files.map(async (file) => ({ file, results: await readResults(file) })));
  const comparison = compareRuns(runs);
  process.stdout.write(renderComparison(comparison) + '\n');
  if (flags.markdown) {
    await writeFile(flags.markdown, comparisonMarkdown(comparison));
    process.stdout.write(`markdown: ${flags.markdown}\n`);
  }
  // A verdict that changes between kernels is what CI watches for: the same code as a failed expectation.
  return comparison.verdictsDiffer ? EXIT.expectationFailed : EXIT.pass;
}
