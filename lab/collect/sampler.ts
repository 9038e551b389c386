/**
 * The counts over time during a flood, for the live view and the charts. The server's come from the kernel:
 * `ss -s` inside it about once a second. The clients' come from their flood programs' own progress lines,
 * which cost nothing: every `docker exec` costs the engine CPU that a CPU-bound flood on two cores misses.
 */
import type { Host } from '../runtime/runtime.ts';
import { parseSsSummary } from './ss.ts';

export interface Sample {
  /** Milliseconds since the sampler started. */
  t: number;
  host: string;
  estab: number;
  /** Known where the kernel was read. */
  timewait?: number;
  /** Failures the host's program had counted by then (all errnos). */
  errors: number;
  source: 'kernel' | 'program';
}

export class Sampler {
  readonly samples: Sample[] = [];
  private running = false;
  private loop?: Promise<void>;
  private readonly started = performance.now();

  constructor(
    private readonly kernelHost: Host,
    private readonly errorsOf: (host: string) => number,
    private readonly onSample: (sample: Sample) => void = () => {},
    private readonly periodMs = 1000,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** A count a host's program reported itself. */
  record(host: string, estab: number, errors: number): void {
    this.samples.push({ t: Math.round(performance.now() - this.started), host, estab, errors, source: 'program' });
  }

  /** Stops after the reading under way, then takes one last reading (once, however often it is called). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    await this.read();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const began = performance.now();
      await this.read();
      const wait = this.periodMs - (performance.now() - began);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async read(): Promise<void> {
    const t = Math.round(performance.now() - this.started);
    const host = this.kernelHost.plan.name;
    // A host that vanished just stops contributing samples.
    const result = await this.kernelHost.exec(['ss', '-s']).catch(() => undefined);
    if (!result || result.exitCode !== 0) return;
    const ss = parseSsSummary(result.stdout);
    const sample: Sample = { t, host, estab: ss.estab, timewait: ss.timewait, errors: this.errorsOf(host), source: 'kernel' };
    this.samples.push(sample);
    this.onSample(sample);
  }
}
