/** Where the lab keeps what it builds or downloads once: ${XDG_CACHE_HOME:-$HOME/.cache}/lab/<kind>. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export function cacheDir(...parts: string[]): string {
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache');
  return join(base, 'lab', ...parts);
}

/**
 * Makes `target` (a file or directory) with `make`, which writes into the temporary path it is given;
 * renamed into place only once complete, so an interrupted build or a concurrent one never leaves half a
 * result behind. Returns at once when `target` exists.
 */
export async function cached(target: string, make: (temporary: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await make(temporary);
    if (existsSync(target)) return target; // another lab process made it meanwhile
    await rename(temporary, target);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return target;
}
