/** The JSON lines the programs inside the hosts print (images/server, images/client): one object a line. */

/** Round-trip percentiles from the client program's histogram (within 6.25%), in µs in its lines. */
export interface RttPercentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * One cadence of a hold that steps down: Pings sent, Pongs in time, timeouts (of them unanswered), the
 * longest time a worker pinged it, and how many workers got into it, held it to its end, or fell behind in it.
 */
export interface HoldPingStepLine {
  interval_ms: number;
  sent: number;
  pongs: number;
  timeouts: number;
  unanswered: number;
  hold_ms: number;
  entered: number;
  completed: number;
  behind: number;
  rtt_us: RttPercentiles;
}

/** A cadence held by a client: every one of its processes held it (time over, Pings in, none late) with no timeout. */
export function stepHeld(step: HoldPingStepLine, processes: number): boolean {
  return step.completed === processes && step.behind === 0 && step.timeouts === 0;
}

export interface ClientLine {
  type: 'start' | 'progress' | 'filled' | 'ping' | 'held' | 'summary' | 'warning' | 'error';
  t_ms?: number;
  established?: number;
  inflight?: number;
  failed?: number;
  dropped?: number;
  pongs?: number;
  errors?: Record<string, number>;
  bind_errors?: Record<string, number>;
  fds_at_start?: number;
  sent_bytes?: number;
  /**
   * connscale's hold, while and after it runs; window_rtt_us covers the time since the last progress line.
   * The percentiles count every timeout: a late Pong at its round trip, and each of the unanswered Pings (no
   * Pong when given up) at the time it was given up, at least the timeout. Older programs had no unanswered.
   */
  hold_ping?: {
    sent: number;
    pongs: number;
    timeouts: number;
    unanswered?: number;
    hold_ms: number;
    rtt_us: RttPercentiles;
    window_rtt_us?: RttPercentiles;
    /** With --ping-step-down-ms: each cadence a worker got into, summed over the workers. */
    steps?: HoldPingStepLine[];
  };
  /**
   * --cost-ports: per 2% of those ports in use, the connect() calls that got a port, the ns they spent in all,
   * and the histogram of one call's µs as [top of bin, calls] pairs.
   */
  connect_cost?: { ports: number; calls: number[]; ns: number[]; us: Array<Array<[number, number]>> };
  /** --request (labclient, labchurn): GETs sent, answered, and cut short by the peer's close. */
  requests?: number;
  answered?: number;
  cut_short?: number;
  /** --request: answers per HTTP status ("200", "502", ...; "other" for an answer that was not HTTP). */
  statuses?: Record<string, number>;
  message?: string;
  reason?: string;
}

export interface ServerLine {
  type: 'ready' | 'progress' | 'summary' | 'error';
  t_ms?: number;
  accepted?: number;
  open?: number;
  pongs?: number;
  fds_at_start?: number;
  /** --http: requests read, and those still waiting for their answer (--hold-ms). */
  requests?: number;
  held?: number;
  errors?: Record<string, number>;
  message?: string;
  op?: string;
  errno?: string;
}

/** Every failure a line counts, connect() and bind() alike: an errno in both maps counts twice, not once. */
export function failuresIn(line: { errors?: Record<string, number>; bind_errors?: Record<string, number> } | undefined): number {
  const sum = (map: Record<string, number> | undefined) => Object.values(map ?? {}).reduce((a, b) => a + b, 0);
  return sum(line?.errors) + sum(line?.bind_errors);
}

export function parseLine<T extends { type: string }>(line: string): T | undefined {
  try {
    const value = JSON.parse(line) as T;
    return typeof value === 'object' && value !== null && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
