/**
 * The counts over time during a flood, for the live view and the charts. The server's come from its kernel:
 * `ss -s` inside it about once a second, from one loop started once in the host (not an exec per reading:
 * under Docker each exec costs the engine about 60 ms of CPU that a CPU-bound flood on two cores misses, and
 * comes late under load). The clients' come from their flood programs' own progress lines.
 */
import type { Host, RunningProgram } from '../runtime/runtime.ts';
import { parseSsSummary } from './ss.ts';
import { within } from '../abort.ts';

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

const MARK = '### sample';
const STOP_WAIT_MS = 5000;

export interface SamplerOptions {
  /** A file whose creation inside the host ends the loop (unique to the run and host). */
  stopFile: string;
  /** The loop ends by itself after this many readings, whatever happens to the lab. */
  maxReadings: number;
  /** How long stop() waits for the loop's last reading before it kills the loop (default 5 s). */
  stopWaitMs?: number;
}

export class Sampler {
  readonly samples: Sample[] = [];
  private program?: Promise<RunningProgram | undefined>;
  private block: string[] = [];
  private stopped?: Promise<void>;
  private readonly started = performance.now();

  constructor(
    private readonly kernelHost: Host,
    private readonly errorsOf: (host: string) => number,
    private readonly onSample: (sample: Sample) => void,
    private readonly options: SamplerOptions,
  ) {}

  /**
   * The loop inside the host: a reading a second until the stop file appears, then one last reading. It
   * leaves its pid beside the stop file, so that a loop that does not stop is killed alone: the host's
   * other shells are none of the sampler's business.
   */
  static script(options: SamplerOptions): string {
    const stop = options.stopFile;
    return `echo $$ > ${stop}.pid; rm -f ${stop}; i=0; while [ $i -lt ${options.maxReadings} ] && [ ! -e ${stop} ]; do ss -s; echo '${MARK}'; sleep 1; i=$((i + 1)); done; ss -s; echo '${MARK}'; rm -f ${stop} ${stop}.pid`;
  }

  start(): void {
    // A host that vanished just stops contributing samples.
    this.program = this.kernelHost.spawn(['sh', '-c', Sampler.script(this.options)], (line) => this.line(line)).catch(() => undefined);
  }

  /** A count a host's program reported itself. */
  record(host: string, estab: number, errors: number): void {
    this.samples.push({ t: this.now(), host, estab, errors, source: 'program' });
  }

  /** Ends the loop after one last reading (once, however often it is called). */
  stop(): Promise<void> {
    this.stopped ??= this.end();
    return this.stopped;
  }

  private async end(): Promise<void> {
    const program = await this.program;
    if (!program) return;
    const stop = this.options.stopFile;
    await this.kernelHost.exec(['touch', stop]).catch(() => undefined);
    if ((await within(program.exited, this.options.stopWaitMs ?? STOP_WAIT_MS)) === 'late') {
      await this.kernelHost.exec(['sh', '-c', `kill -KILL "$(cat ${stop}.pid)"; rm -f ${stop} ${stop}.pid`]).catch(() => undefined);
    }
  }

  private now(): number {
    return Math.round(performance.now() - this.started);
  }

  private line(text: string): void {
    if (text.trim() !== MARK) {
      this.block.push(text);
      return;
    }
    const ss = parseSsSummary(this.block.join('\n'));
    this.block = [];
    const host = this.kernelHost.plan.name;
    const sample: Sample = { t: this.now(), host, estab: ss.estab, timewait: ss.timewait, errors: this.errorsOf(host), source: 'kernel' };
    this.samples.push(sample);
    this.onSample(sample);
  }
}
