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
  /**
   * Milliseconds since the sampler started, when the count was taken: a kernel reading by the host's own
   * clock (its output can arrive late, in a burst, under a flood), a program's count when its line came.
   */
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
/** How often the loop reads the server's kernel (it sleeps this long between readings). */
export const SAMPLE_INTERVAL_MS = 1000;
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
  /** The host's uptime clock, in ms, to the sampler's: the least arrival delay seen so far. */
  private clockOffset?: number;

  constructor(
    private readonly kernelHost: Host,
    private readonly errorsOf: (host: string) => number,
    private readonly onSample: (sample: Sample) => void,
    private readonly options: SamplerOptions,
  ) {}

  /**
   * The loop inside the host: a reading a second until the stop file appears, then one last reading, each
   * marked with the host's uptime when it was taken (read by the shell itself, no process more). It leaves
   * its pid beside the stop file, so that a loop that does not stop is killed alone: the host's other shells
   * are none of the sampler's business.
   */
  static script(options: SamplerOptions): string {
    const stop = options.stopFile;
    const reading = `ss -s; up=; read up _ < /proc/uptime; echo "${MARK} $up"`;
    return `echo $$ > ${stop}.pid; rm -f ${stop}; i=0; while [ $i -lt ${options.maxReadings} ] && [ ! -e ${stop} ]; do ${reading}; sleep ${SAMPLE_INTERVAL_MS / 1000}; i=$((i + 1)); done; ${reading}; rm -f ${stop} ${stop}.pid`;
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

  /**
   * When a reading was taken, on the sampler's clock: its uptime mark moved by the least delay any reading
   * took to arrive (the first, before the flood, arrives at once). Without a mark, when it arrived.
   */
  private takenAt(mark: string): number {
    const arrived = this.now();
    const uptime = mark.trim() === '' ? NaN : Number(mark) * 1000;
    if (!Number.isFinite(uptime)) return arrived;
    this.clockOffset = Math.min(this.clockOffset ?? Infinity, arrived - uptime);
    return Math.round(uptime + this.clockOffset);
  }

  private line(text: string): void {
    const trimmed = text.trim();
    if (trimmed !== MARK && !trimmed.startsWith(`${MARK} `)) {
      this.block.push(text);
      return;
    }
    const output = this.block.join('\n');
    this.block = [];
    // A reading ss could not take (no socket left to ask the kernel with: ENFILE, EMFILE) is a gap in the series, never the run's end.
    const ss = readableSs(output);
    if (!ss) return;
    const host = this.kernelHost.plan.name;
    const sample: Sample = {
      t: this.takenAt(trimmed.slice(MARK.length)),
      host,
      estab: ss.estab,
      timewait: ss.timewait,
      errors: this.errorsOf(host),
      source: 'kernel',
    };
    this.samples.push(sample);
    this.onSample(sample);
  }
}

function readableSs(output: string): ReturnType<typeof parseSsSummary> | undefined {
  try {
    return parseSsSummary(output);
  } catch {
    return undefined;
  }
}
