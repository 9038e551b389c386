/** The machine's memory as its kernel tells it (/proc/meminfo), read through a shell on that machine. */
import type { MachineShell } from '../runtime/runtime.ts';

export interface MachineMemory {
  totalBytes: number;
  /** What the kernel estimates can be had without swapping (MemAvailable): free memory and reclaimable cache. */
  availableBytes: number;
}

export function parseMeminfo(text: string): MachineMemory | undefined {
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const memory = { totalBytes: kib('MemTotal'), availableBytes: kib('MemAvailable') };
  return Number.isFinite(memory.totalBytes) && Number.isFinite(memory.availableBytes) ? memory : undefined;
}

export async function readMachineMemory(shell: MachineShell): Promise<MachineMemory | undefined> {
  const result = await shell(['cat', '/proc/meminfo']).catch(() => undefined);
  return result?.exitCode === 0 ? parseMeminfo(result.stdout) : undefined;
}
