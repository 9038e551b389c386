/**
 * Reads `ss -s` inside every host at a steady pace while a flood runs: the kernel's own count over time,
 * for the live view and the charts (the flood program's count is only what it believes it holds).
 */
import type { Host } from '../runtime/runtime.ts';
import { parseSsSummary } from './ss.ts';

export interface Sample {
  /** Milliseconds since the sampler started. */
  t: number;
  host: string;
  estab: number;
  timewait: number;
  /** Failures the host's program had counted by then (all errnos). */
  errors: number;
}

/** Hosts other than the first are read every this many rounds: many execs at once slow every round down. */
const OTHERS_EVERY = 5;

export class Sampler {
  readonly samples: Sample[] = [];
  private running = false;
  private rounds = 0;
  private loop?: Promise<void>;
  private readonly started = performance.now();

  /** hosts[0] (the server) is read every round; the others, whose programs report their own counts, less often. */
  constructor(
    private readonly hosts: readonly Host[],
    private readonly errorsOf: (host: string) => number,
    private readonly onSample: (sample: Sample) => void = () => {},
    private readonly periodMs = 1000,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the round under way, then takes one last reading (once, however often it is called). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    await this.round();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const began = performance.now();
      await this.round();
      const wait = this.periodMs - (performance.now() - began);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async round(): Promise<void> {
    const t = Math.round(performance.now() - this.started);
    const all = this.rounds++ % OTHERS_EVERY === 0 || !this.running;
    await Promise.all(
      (all ? this.hosts : this.hosts.slice(0, 1)).map(async (host) => {
        // A host that vanished (killed mid-flood) just stops contributing samples.
        const result = await host.exec(['ss', '-s']).catch(() => undefined);
        if (!result || result.exitCode !== 0) return;
        const ss = parseSsSummary(result.stdout);
        const sample = { t, host: host.plan.name, estab: ss.estab, timewait: ss.timewait, errors: this.errorsOf(host.plan.name) };
        this.samples.push(sample);
        this.onSample(sample);
      }),
    );
  }
}
