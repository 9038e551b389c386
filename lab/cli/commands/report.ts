/** `lab report <results.json> [--out <dir>]`: a run's views again (Markdown and HTML), from its results file. */
import { dirname, resolve } from 'node:path';
import { readResults } from '../../report/read.ts';
import { runSources, writeViews } from '../../report/write.ts';
import { VIEWS, type ReportView } from '../../report/views.ts';
import { EXIT } from '../exit-codes.ts';
import { checkOutputPath } from '../output-paths.ts';

export async function reportCommand(file: string, flags: { out?: string }): Promise<number> {
  const out = checkOutputPath(
    flags.out
      ? { flag: '--out', path: flags.out, kind: 'dir' }
      : { flag: '--out', path: dirname(resolve(file)), kind: 'dir', note: "the results file's folder, the default" },
  );
  const results = await readResults(file);
  const written = await writeViews(
    await runSources(results),
    { folder: out },
    VIEWS.filter((view: ReportView) => !view.record),
  );
  process.stdout.write(`report: ${written.join(', ')}\n`);
  return EXIT.pass;
}
