#!/usr/bin/env node
// Runs the lab's TypeScript directly (tsx), so a fresh clone needs `npm ci` and nothing else.
import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

// tsx compiles into the temporary folder: check it first, in one line (exit 3), rather than fail in the loader.
const problem = temporaryFolderProblem();
if (problem) {
  process.stderr.write(`lab: ${problem}\n`);
  process.exit(3);
}

// In this process (no child): the signals a run handles reach its handlers.
register();
const { main } = await import('../lab/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit now: idle keep-alive sockets to the engine must not hold a finished command open.
process.stdout.write('', () => process.exit(code));

/** What is wrong with the temporary folder (TMPDIR, else /tmp), if anything: it must be a folder we can write to. */
function temporaryFolderProblem() {
  const dir = tmpdir();
  const named = process.env.TMPDIR ? `TMPDIR=${process.env.TMPDIR}` : `the temporary folder ${dir}`;
  const fix = process.env.TMPDIR ? 'set TMPDIR to a writable folder, or unset it' : 'make it a writable folder, or set TMPDIR to one';
  let stat;
  try {
    stat = statSync(dir);
  } catch (error) {
    return `${named} is not a writable directory (${error.code === 'ENOENT' ? 'it does not exist' : (error.code ?? error.message)}): ${fix}`;
  }
  if (!stat.isDirectory()) return `${named} is not a writable directory (it is not a folder): ${fix}`;
  try {
    // A real write, not access(): root passes permission checks, not a read-only mount. Never a recursive mkdir (it hangs on /proc).
    rmdirSync(mkdtempSync(join(dir, 'lab-')));
    return undefined;
  } catch (error) {
    return `${named} is not a writable directory (nothing can be created in it: ${error.code ?? error.message}): ${fix}`;
  }
}
