/** `lab report <results.json> [--out <dir>]`: the Markdown and HTML reports again, from a results file. */
import { dirname, resolve } from 'node:path';
import { readResults } from '../../report/read.ts';
import { writeViews } from '../../report/write.ts';
import { EXIT } from '../exit-codes.ts';

export async function reportCommand(file: string, flags: { out?: string }): Promise<number> {
  const results = await readResults(file);
  const written = await writeViews(results, resolve(flags.out ?? dirname(file)));
  process.stdout.write(`report: ${written.join(', ')}\n`);
  return EXIT.pass;
}
