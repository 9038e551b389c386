/**
 * What a connection cost in kernel memory when the lab last measured it on this machine, per kernel and
 * tracking mode: the memory check uses it before a big run. Only floods large enough for the host-wide
 * figure to mean something are recorded (see memoryPerConnection).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cacheDir } from '../runtime/cache.ts';
import type { ConnectionCost } from './memory-guard.ts';

interface Measured {
  bytesPerConnection: number;
  connections: number;
  scenario: string;
  at: string;
}

const file = () => cacheDir('memory', 'connection-costs.json');
const key = (kernel: string, tracked: boolean) => `${kernel} ${tracked ? 'tracked' : 'untracked'}`;
/** Below this a flood's host-wide growth is too small to size a million by. */
export const COST_RECORD_MIN_CONNECTIONS = 100_000;

async function readAll(): Promise<Record<string, Measured>> {
  try {
    return JSON.parse(await readFile(file(), 'utf8')) as Record<string, Measured>;
  } catch {
    return {};
  }
}

export async function measuredCost(kernel: string, tracked: boolean): Promise<ConnectionCost | undefined> {
  const found = (await readAll())[key(kernel, tracked)];
  if (!found) return undefined;
  const day = found.at.slice(0, 10);
  return {
    bytes: found.bytesPerConnection,
    source: `measured here by ${found.scenario} with ${found.connections.toLocaleString('en-US')} held on ${day}, ${tracked ? 'tracked' : 'not tracked'}`,
  };
}

export async function recordCost(kernel: string, tracked: boolean, measured: Omit<Measured, 'at'>): Promise<void> {
  if (measured.connections < COST_RECORD_MIN_CONNECTIONS || !(measured.bytesPerConnection > 0)) return;
  try {
    const all = await readAll();
    all[key(kernel, tracked)] = { ...measured, at: new Date().toISOString() };
    await mkdir(dirname(file()), { recursive: true });
    const temporary = `${file()}.${process.pid}`;
    await writeFile(temporary, JSON.stringify(all, null, 2) + '\n');
    await rename(temporary, file());
  } catch {
    // A cache that cannot be written only means the next check uses the theory's figure.
  }
}
