/**
 * The lab never drives the machine into the OOM killer. Before anything starts, a case whose connections
 * would cost more kernel memory than the machine has free (above a floor) is refused, with the arithmetic;
 * while a flood runs, the machine's available memory is watched, and a flood that takes it under the floor
 * is told to ask for no more.
 */
import { EnvironmentError } from '../errors.ts';
import type { MachineMemory } from '../collect/meminfo.ts';
import { readMachineMemory } from '../collect/meminfo.ts';
import { formatGiB } from '../results/memory.ts';
import type { MachineShell } from '../runtime/runtime.ts';

/**
 * What the lab leaves free whatever a scenario asks: a tenth of the machine, and never under 128 MiB. The
 * lab's own tests may raise it (LAB_MEMORY_FLOOR_BYTES), to see a flood stopped without filling the machine.
 */
export function memoryFloorBytes(totalBytes: number): number {
  const floor = Math.max(Math.round(totalBytes / 10), 128 * 1024 ** 2);
  const raised = Number(process.env.LAB_MEMORY_FLOOR_BYTES);
  return raised > floor ? raised : floor;
}

/** What one connection costs in kernel memory, both ends and their tracking, and where the figure comes from. */
export interface ConnectionCost {
  bytes: number;
  source: string;
}

export interface MemoryNeed {
  connections: number;
  cost: ConnectionCost;
  /** Which case, for people. */
  label: string;
}

/** The case's need set against what the machine has: a line of arithmetic, and whether it fits. */
export function memoryVerdict(need: MemoryNeed, memory: MachineMemory): { fits: boolean; arithmetic: string } {
  const floor = memoryFloorBytes(memory.totalBytes);
  const kernel = need.connections * need.cost.bytes;
  const arithmetic =
    `${need.label}: ${need.connections.toLocaleString('en-US')} connections x ${need.cost.bytes.toLocaleString('en-US')} B (${need.cost.source}) = ${formatGiB(kernel)}` +
    ` + the ${formatGiB(floor)} the lab keeps free = ${formatGiB(kernel + floor)}, against ${formatGiB(memory.availableBytes)} available (MemAvailable of ${formatGiB(memory.totalBytes)})`;
  return { fits: kernel + floor <= memory.availableBytes, arithmetic };
}

/**
 * Refuses (exit 3) the first need that does not fit, unless the user let the run go on to the floor. The
 * refusal advises only what was not given: --notrack where the run's connections are tracked.
 */
export function checkMemory(
  needs: readonly MemoryNeed[],
  memory: MachineMemory,
  overridden: boolean,
  log: (line: string) => void,
  tracked = true,
): void {
  for (const need of needs) {
    const { fits, arithmetic } = memoryVerdict(need, memory);
    if (fits) continue;
    if (overridden) {
      log(`memory: ${arithmetic}; going on (--until-memory-floor): the flood stops where available memory falls to the floor`);
      continue;
    }
    throw new EnvironmentError(
      `not enough memory: ${arithmetic}`,
      `ask for fewer connections, ${tracked ? 'exempt the run from connection tracking (--notrack), ' : ''}or pass --until-memory-floor to run until the floor stops the flood`,
    );
  }
}

/** Where a flood was stopped for memory. */
export interface MemoryStop {
  availableBytes: number;
  floorBytes: number;
  /** Seconds since the watch started. */
  atSeconds: number;
}

/**
 * Reads the machine's available memory about once a second until stopped; every reading under the floor
 * calls `onLow` with the first such reading (a program that had not started yet is told the next time).
 * Bounded: it ends by itself after `maxReadings`.
 */
export class MemoryWatch {
  stop?: MemoryStop;
  /** The lowest reading, for the results: how close the run came. */
  lowestBytes = Infinity;
  floorBytes?: number;
  private running = true;
  private loop?: Promise<void>;
  private readonly started = performance.now();

  constructor(
    private readonly shell: MachineShell,
    private readonly onLow: (stop: MemoryStop) => void | Promise<void>,
    private readonly maxReadings: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for (let i = 0; this.running && i < this.maxReadings; i++) {
      const memory = await readMachineMemory(this.shell);
      if (memory) {
        this.lowestBytes = Math.min(this.lowestBytes, memory.availableBytes);
        const floorBytes = memoryFloorBytes(memory.totalBytes);
        this.floorBytes = floorBytes;
        if (memory.availableBytes < floorBytes) {
          this.stop ??= { availableBytes: memory.availableBytes, floorBytes, atSeconds: Math.round((performance.now() - this.started) / 100) / 10 };
          await this.onLow(this.stop);
        }
      }
      if (this.running) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async end(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
