/**
 * Builds the lab's C programs with this machine's gcc, for runtimes without images: labserver, labclient,
 * labchurn (static when asked, to run inside a VM's initramfs) and labagent (always static). Cached by a
 * hash of the sources, the flags and the compiler.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx';
import { RuntimeFailure } from '../errors.ts';
import { LABAGENT, PROGRAM_HEADERS, PROGRAMS } from '../programs/programs.ts';
import { cacheDir, cached } from './cache.ts';
import { ensurePackages } from './debian-packages.ts';
import type { Log } from './runtime.ts';

const CFLAGS = ['-O2', '-Wall', '-Wextra'];

export async function buildLabPrograms(projectRoot: string, options: { static: boolean }, log: Log): Promise<string> {
  await ensurePackages(
    [
      { package: 'gcc', command: 'gcc' },
      {
        package: 'libc6-dev',
        present: () =>
          existsSync('/usr/include/stdio.h') && (!options.static || existsSync('/usr/lib/x86_64-linux-gnu/libc.a') || existsSync('/usr/lib/libc.a')),
      },
    ],
    "building the lab's programs",
    log,
  );
  const compiler = (await $({ quiet: true })`gcc -dumpfullversion -dumpmachine`).stdout;
  const hash = createHash('sha256').update(JSON.stringify({ CFLAGS, static: options.static, compiler }));
  for (const file of [...PROGRAMS.map((p) => p.source), ...PROGRAM_HEADERS]) {
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(projectRoot, file)));
  }
  const dir = cacheDir('programs', hash.digest('hex').slice(0, 16));
  if (existsSync(dir)) return dir;
  log(`building ${PROGRAMS.map((p) => p.name).join(', ')} with gcc${options.static ? ' (static)' : ''}`);
  return cached(dir, async (temporary) => {
    await mkdir(temporary, { recursive: true });
    await Promise.all(
      PROGRAMS.map(async ({ name, source }) => {
        const isStatic = options.static || name === LABAGENT.name;
        const flags = [...CFLAGS, `-I${join(projectRoot, 'images/common')}`, ...(isStatic ? ['-static'] : [])];
        try {
          await $({ quiet: true })`gcc ${flags} -o ${join(temporary, name)} ${join(projectRoot, source)}`;
        } catch (error) {
          const e = error as { stderr?: string };
          throw new RuntimeFailure(`gcc could not build ${name} from ${source}`, undefined, e.stderr?.trim());
        }
      }),
    );
  });
}
