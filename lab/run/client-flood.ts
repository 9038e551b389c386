/**
 * One client's flood program as its lines tell it: progress, the 'filled' line, the Ping round, connscale's
 * hold and its series. The case waits on its promises; the results read what it kept.
 */
import { floodFigures } from '../results/host-result.ts';
import type { FloodFigures, HoldPingFigures } from '../results/results.ts';
import type { PlannedClient } from '../plan/plan.ts';
import { failuresIn, parseLine, type ClientLine } from '../programs/lines.ts';
import type { Host, RunningProgram } from '../runtime/runtime.ts';

export class ClientFlood {
  last?: ClientLine;
  filled?: ClientLine;
  /** The line after the Ping/Pong round, when the plan asks for one. */
  pinged?: ClientLine;
  /** The line after connscale's hold, when the plan asks for one. */
  held?: ClientLine;
  /** connscale's hold as it went: one point per progress line. */
  readonly holdSeries: HoldPingFigures['series'] = [];
  /** The program exited cleanly without printing its figures. */
  unreported = false;
  /** The host vanished mid-flood (its container killed): its figures are gone, not zero. */
  lost = false;
  program!: RunningProgram;
  readonly startedAt = performance.now();
  filledAt?: number;
  /** Resolves once the flood has filled what it could (and done its Ping round, if asked). */
  readonly ended: Promise<void>;
  /** Resolves once connscale's hold is over. */
  readonly heldOver: Promise<void>;
  private endFill!: () => void;
  private endHold!: () => void;
  private previous?: ClientLine;

  constructor(
    readonly host: Host,
    readonly plan: PlannedClient,
    private readonly onProgress: (line: ClientLine) => void,
  ) {
    this.ended = new Promise((resolve) => (this.endFill = resolve));
    this.heldOver = new Promise((resolve) => (this.endHold = resolve));
  }

  async start(): Promise<void> {
    this.program = await this.host.spawn(this.host.plan.program, (text) => this.line(text));
  }

  private line(text: string): void {
    const line = parseLine<ClientLine>(text);
    if (!line) return;
    this.last = line;
    if (line.type === 'progress' || line.type === 'filled') this.onProgress(line);
    if (line.type === 'filled') {
      this.filled = line;
      this.filledAt = performance.now();
    }
    if (line.type === 'ping') this.pinged = line;
    if (line.type === 'held') this.held = line;
    const previous = this.previous;
    if (line.type === 'progress' && line.hold_ping && previous?.hold_ping && line.t_ms && previous.t_ms) {
      const seconds = (line.t_ms - previous.t_ms) / 1000;
      const window = line.hold_ping.window_rtt_us;
      if (window?.count)
        this.holdSeries.push({
          t: line.t_ms / 1000,
          perSecond: Math.round((line.hold_ping.pongs - previous.hold_ping.pongs) / seconds),
          p99: window.p99 / 1000,
        });
    }
    if (line.type === 'progress') this.previous = line;
    if (line.type === (this.plan.ping ? 'ping' : 'filled')) this.endFill();
    if (line.type === 'held') this.endHold();
  }

  /** A program that ended cleanly without its figures: its flood is over, and nothing it did is measured. */
  endUnreported(): void {
    this.unreported = true;
    this.filledAt = performance.now();
  }

  /** The last line with figures: the one that ended its flood, or undefined if none came. */
  get lastFigures(): ClientLine | undefined {
    return this.plan.holdPing ? this.held : this.plan.ping ? this.pinged : this.filled;
  }

  get failures(): number {
    return failuresIn(this.last);
  }

  figures(): FloodFigures {
    return floodFigures({
      plan: this.plan,
      // A scenario's own program runs under timeout(1): name the program, not the wrapper.
      program: this.plan.customProgram?.command.join(' ') ?? this.host.plan.program[0]!,
      ...(this.filled && { filled: this.filled }),
      ...(this.pinged && { pinged: this.pinged }),
      ...(this.held && { held: this.held }),
      // Held requests are answered after the fill too (a proxy working through them): the latest line counts.
      ...(this.last && { latest: this.last }),
      holdSeries: this.holdSeries,
      unreported: this.unreported,
      fillSeconds: Math.round(((this.filledAt ?? performance.now()) - this.startedAt) / 100) / 10,
    });
  }
}
