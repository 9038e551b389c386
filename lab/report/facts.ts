/** What every report view says the same way: numbers, errors, sysctls, phases, the environment, verdicts. */
import type {
  CaseResult,
  EndMemory,
  ExpectationResult,
  HoldPingFigures,
  HostResult,
  MemoryFigures,
  Results,
  SlabGrowth,
} from '../results/results.ts';
import type { Prediction } from '../scenario/types.ts';
import { formatGiB } from '../results/memory.ts';
import { milestonesLine } from '../results/milestones.ts';

/** The sysctls read back that decide the lab's figures, in the order the host tables show them. */
export const KEY_SYSCTLS = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_tw_reuse',
  'net.core.somaxconn',
  'net.ipv4.tcp_max_syn_backlog',
] as const;

/** 'net.ipv4.ip_local_port_range' → 'ip_local_port_range' (a column header). */
export function sysctlShortName(key: string): string {
  return key.replace(/^net\.(ipv4|core)\./, '');
}

/** 28231 → "28,231", 13.823 → "13.823": every figure in the reports is written this one way. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A prediction as the reports write it: "28,231", ">= 1", "2,375-2,625", or "-" where the theory had none. */
export function predictionText(p: Prediction): string {
  if (typeof p.min !== 'number' || Number.isNaN(p.min)) return '-';
  if (p.min === p.max) return formatCount(p.min);
  if (p.max === Infinity) return `>= ${formatCount(p.min)}`;
  return `${formatCount(p.min)}-${formatCount(p.max)}`;
}

/** 0.671 → "0.7 ms", 81.919 → "82 ms": the histogram is only good to 6.25% anyway. */
export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${formatCount(Math.round(ms))} ms`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function verdictWord(pass: boolean): 'pass' | 'FAIL' {
  return pass ? 'pass' : 'FAIL';
}

/** 'pass', 'FAIL', or 'INVALID: why' when a host the row depends on was lost and nothing was measured. */
export function expectationVerdict(e: ExpectationResult): string {
  if (e.notApplicable) return `n/a: ${e.notApplicable}`;
  return e.invalid ? `INVALID: ${e.invalid}` : verdictWord(e.pass);
}

/** The measured figure as the results hold it (28231), for the terminal and machine-read views. */
export function measuredText(e: ExpectationResult): string {
  return e.invalid || e.notApplicable ? '-' : String(e.measured);
}

/** The measured figure as the reports write it (28,231), or "-" when nothing was measured. */
export function measuredFigure(e: ExpectationResult): string {
  return e.invalid || e.notApplicable || Number.isNaN(e.measured) ? '-' : formatCount(e.measured);
}

/** A host's own figures as text; a host lost mid-run has none. */
export function hostFigures(h: HostResult): { estab: string; timewait: string; errors: string } {
  if (h.lost) return { estab: '-', timewait: '-', errors: 'LOST mid-run: it vanished, no figures' };
  return { estab: formatCount(h.estab) + familyNote(h), timewait: formatCount(h.timewait), errors: formatErrors(h) };
}

/** estab counts IPv4 and IPv6 together (one TCP MIB); where the host had IPv6 sockets, say so and split the sockets in use. */
export function familyNote(h: HostResult): string {
  const sockets = h.tcpSockets;
  if (!sockets?.ipv6) return '';
  return ` (both families; TCP sockets in use: IPv4 ${formatCount(sockets.ipv4)}, IPv6 ${formatCount(sockets.ipv6)})`;
}

/** Connect and bind failures by errno name; bind() failures are told apart ("bind EADDRINUSE"). */
export function errorCounts(host: HostResult): Array<[string, number]> {
  return [...Object.entries(host.errors), ...Object.entries(host.bindErrors).map(([errno, n]): [string, number] => [`bind ${errno}`, n])];
}

export function formatErrors(host: HostResult): string {
  const counts = errorCounts(host);
  return counts.length ? counts.map(([errno, n]) => `${errno} x${n}`).join(', ') : 'none';
}

/** What the run's hosts were, as the run recorded it; older results did not, and only container runs had images. */
export function hostKind(results: Results): string {
  return results.environment.hostKind ?? (results.environment.images ? 'container' : 'namespace');
}

export function formatPhases(c: CaseResult): string {
  return Object.entries(c.phases)
    .map(([phase, ms]) => `${phase} ${formatSeconds(ms)}`)
    .join(', ');
}

/** The run's fingerprint as label and value pairs, in reading order. */
export function environmentFacts(results: Results): Array<[string, string]> {
  const env = results.environment;
  const images = Object.entries(env.images ?? {}).map(([role, image]) => `${role} ${image.name} (${image.id.replace(/^sha256:/, '').slice(0, 12)})`);
  return [
    ['kernel', env.kernel],
    ['engine', `${env.engine} (${env.runtime})`],
    ['lab', `${env.lab} on Node ${env.node}`],
    ['images', images.join(', ') || 'unknown'],
    ['open files per process up to', formatCount(env.nofileCeiling)],
    ...(env.nodes ?? []).map((n): [string, string] => [
      `node ${n.name}`,
      `Linux ${n.kernel}, ${n.engine}, open files per process up to ${formatCount(n.nofileCeiling)} (${n.address})`,
    ]),
    ...Object.entries(env.namespaceDefaults ?? {}).map(([key, value]): [string, string] => [`a new namespace's ${sysctlShortName(key)}`, value]),
    ...Object.entries(env.machineSysctls ?? {}).map(([key, value]): [string, string] => [`machine-wide ${key} (read, never set)`, value]),
    ['mode', results.quick ? 'quick (--quick: narrow ranges, the same laws)' : 'full'],
    ['run', results.runId],
    ['scenario file', results.file],
    ['started', results.startedAt],
    ['finished', results.finishedAt],
  ];
}

export function overallVerdict(results: Results): string {
  const passed = results.cases.filter((c) => c.pass).length;
  return results.pass
    ? `PASS: every expectation held in ${passed} of ${results.cases.length} cases`
    : `FAIL: ${results.cases.length - passed} case(s) did not behave as predicted`;
}

/** The cases that did not behave as predicted, each with its expectations that failed. */
export function failedCases(results: Results): Array<{ index: number; c: CaseResult; failed: ExpectationResult[] }> {
  return results.cases.flatMap((c, index) => (c.pass ? [] : [{ index, c, failed: c.expectations.filter((e) => !e.pass) }]));
}

/** "client-1: a spent range answers EADDRNOTAVAIL: predicted >= 1, measured 0". */
export function failedExpectationText(e: ExpectationResult): string {
  const outcome = e.invalid ? `INVALID: ${e.invalid}` : `predicted ${predictionText(e.predicted)}, measured ${measuredFigure(e)}`;
  return `${e.host}: ${e.claim}: ${outcome}`;
}

/** The distinct theory lines of a case, in the order its expectations give them. */
export function theoryLines(c: CaseResult): string[] {
  return [...new Set(c.expectations.map((e) => e.predicted.why).filter((why): why is string => !!why))];
}

/**
 * Where the hosts ran, for runs across nodes: which node each host was on, and whether they shared one
 * kernel (one boot id), as the local swarm's nodes do.
 */
export function machineLines(c: CaseResult): string[] {
  const placed = c.hosts.filter((h) => h.machine?.node);
  if (!placed.length) return [];
  const byNode = new Map<string, string[]>();
  for (const h of placed) byNode.set(h.machine!.node!, [...(byNode.get(h.machine!.node!) ?? []), h.name]);
  const where = [...byNode].map(([node, hosts]) => `${node} (${hosts.join(', ')})`).join(', ');
  const kernels = [...new Set(placed.map((h) => `${h.machine!.node}: Linux ${h.machine!.kernel}`))];
  if (c.oneKernel)
    return [
      `nodes: ${where}; one kernel under them all (the same boot id, ${placed[0]!.machine!.bootId.slice(0, 8)}): both ends of every connection in it, so memory is not split by node`,
    ];
  return [`nodes: ${where}; ${c.oneKernel === false ? 'separate kernels (boot ids differ)' : 'kernels'}: ${kernels.join(', ')}`];
}

/** Memory per connection and when the server passed each 100k, where the case measured them. */
export function scaleLines(c: CaseResult): string[] {
  const lines: string[] = [];
  if (c.memory) {
    const m = c.memory;
    lines.push(
      `memory per connection, over ${formatCount(m.connections)}: kernel ${m.hostWideNotMeasured ? `not measured (host-wide: ${m.hostWideNotMeasured})` : `${formatCount(m.kernelBytesPerConnection)} B (${m.kernelEnds === 'server' ? "slab and TCP pages on the server's machine: its end alone" : 'slab and TCP pages, host-wide, both ends'})`}, ` +
        `server program ${formatCount(m.serverUserBytesPerConnection)} B, client programs ${formatCount(m.clientRssBytesPerConnection)} B (their fixed costs included)`,
    );
    if (m.perEnd) lines.push(perEndLine(m.perEnd));
    if (m.tcpMemPages !== undefined) {
      lines.push(
        `TCP socket buffers machine-wide (sockstat mem, host-wide, bounded by tcp_mem): ${m.tcpMemPages >= 0 ? '+' : ''}${formatCount(m.tcpMemPages)} pages`,
      );
    }
  }
  const watched = c.machineMemory;
  if (watched?.stopped) {
    const stop = watched.stopped;
    lines.push(
      `the lab stopped the flood for memory ${stop.atSeconds} s in, at ${formatCount(stop.connections)} connections held by the clients: available memory ${formatGiB(stop.availableBytes)}, under the floor of ${formatGiB(stop.floorBytes)} it keeps free`,
    );
  } else if (c.memory && watched?.lowestAvailableBytes !== undefined && watched.floorBytes !== undefined) {
    lines.push(
      `the machine's available memory went down to ${formatGiB(watched.lowestAvailableBytes)} (the lab's floor: ${formatGiB(watched.floorBytes)})`,
    );
  }
  if (c.holdStart) {
    const { waitedSeconds, serverAccepted, clientsHeld } = c.holdStart;
    const caughtUp =
      serverAccepted >= clientsHeld
        ? `once the server's program had accepted all ${formatCount(clientsHeld)}`
        : `with the server's program at ${formatCount(serverAccepted)} accepted of the ${formatCount(clientsHeld)} the clients held (it had stopped accepting)`;
    lines.push(`the hold began ${waitedSeconds.toFixed(1)} s after the clients filled, ${caughtUp}`);
  }
  const reached = milestonesLine(c.milestones ?? []);
  if (reached) lines.push(reached);
  return lines;
}

function perEndLine(perEnd: NonNullable<MemoryFigures['perEnd']>): string {
  const ends = (['server', 'client'] as const).flatMap((end): Array<[string, EndMemory]> => (perEnd[end] ? [[end, perEnd[end]]] : []));
  const sources = [...new Set(ends.map(([, m]) => m.source))].join('; ');
  const kernel = ends.map(([end, m]) => `${end} end ${formatCount(Math.round(m.kernelBytes))} B`).join(', ');
  const buffers = ends
    .filter(([, m]) => m.tcpBufferBytes !== undefined)
    .map(([end, m]) => `${end} end ${formatCount(Math.round(m.tcpBufferBytes!))} B`);
  return `kernel memory per connection end, from each host's own memory cgroup (${sources}): ${kernel}${buffers.length ? `, socket buffers ${buffers.join(', ')}` : ''}`;
}

/** 2.03 → "2.0"; a small share of an object (0.04) keeps a digit rather than showing as 0.0. */
function formatObjects(n: number): string {
  return n > 0 && n < 0.1 ? n.toPrecision(1) : n.toFixed(1);
}

/**
 * Slab growth per connection as table rows: a header, one row per cache, and a total. Predicted bytes are
 * predictedObjects x objectSize, summed only over the caches the theory names.
 */
export function slabRows(caches: SlabGrowth[]): string[][] {
  const predictedBytes = (s: SlabGrowth) => (s.predictedObjects === undefined ? undefined : s.predictedObjects * s.objectSize);
  const bytes = (n: number | undefined) => (n === undefined ? '' : formatCount(Math.round(n)));
  const predicted = caches.map(predictedBytes).filter((n): n is number => n !== undefined);
  return [
    ['slab cache', 'object size (B)', 'objects per connection', 'predicted objects', 'bytes per connection', 'predicted bytes'],
    ...caches.map((s) => [
      s.cache,
      formatCount(s.objectSize),
      formatObjects(s.objectsPerConnection),
      s.predictedObjects === undefined ? '' : formatObjects(s.predictedObjects),
      bytes(s.bytesPerConnection),
      bytes(predictedBytes(s)),
    ]),
    [
      'total',
      '',
      '',
      '',
      bytes(caches.reduce((sum, s) => sum + s.bytesPerConnection, 0)),
      predicted.length ? bytes(predicted.reduce((a, b) => a + b, 0)) : '',
    ],
  ];
}

/** The clients' Ping/Pong holds, in host order. */
export function holdPings(c: CaseResult): Array<{ host: string; ping: HoldPingFigures }> {
  return c.hosts.flatMap((h) => (h.flood?.holdPing ? [{ host: h.name, ping: h.flood.holdPing }] : []));
}

/**
 * One line per client that held a Ping/Pong round: rate against asked, timeouts, round-trip percentiles;
 * where the holds stepped down, first the cadence the clients held, and under each client its cadences.
 */
export function holdPingLines(c: CaseResult): string[] {
  const pings = holdPings(c);
  const cadence = cadenceLine(pings.map((x) => x.ping));
  return [
    ...(cadence ? [cadence] : []),
    ...pings.flatMap(({ host, ping: p }) => [
      `${host} pinged every ${formatCount(p.intervalMs)} ms${p.steps ? ' at the end' : ''}: ${formatCount(p.perSecond)} of ${formatCount(p.askedPerSecond)} pings/s asked, ${formatCount(p.timeouts)} timeouts${p.steps ? ' in the whole hold' : ''}; ${roundTripText(p.rttMs)}`,
      ...(p.steps ?? []).map((s) => `  ${stepText(s)}`),
    ]),
  ];
}

function roundTripText(r: HoldPingFigures['rttMs']): string {
  return r?.count
    ? `round trip p50 ${formatMs(r.p50)}, p90 ${formatMs(r.p90)}, p99 ${formatMs(r.p99)}, p99.9 ${formatMs(r.p999)}, max ${formatMs(r.max)}`
    : 'no Pong came back';
}

type HoldPingStep = NonNullable<HoldPingFigures['steps']>[number];

function stepText(s: HoldPingStep): string {
  const asked = `every ${formatCount(s.intervalMs)} ms (${formatCount(s.askedPerSecond)} pings/s asked)`;
  const rest = `${formatCount(s.timeouts)} timeouts; ${roundTripText(s.rttMs)}`;
  if (s.held) return `${asked}: held ${formatSeconds(s.seconds * 1000)}, ${formatCount(s.perSecond)} pings/s answered, ${rest}`;
  // Fallen behind, a process sent no more Pings in it: its Pongs came over longer than it pinged, so no rate.
  if (s.behind)
    return `${asked}: ${s.behind} of ${s.processes} process(es) fell behind (a Pong later than a quarter of the timeout) within ${formatSeconds(s.seconds * 1000)}; ${formatCount(s.sent)} Pings sent, ${formatCount(s.pongs)} answered, ${rest}`;
  return `${asked}: cut short, the hold ended (a faster cadence was held everywhere); ${rest}`;
}

/** Where the clients' holds stepped down: the cadence every client held, and those they fell behind at. */
function cadenceLine(pings: readonly HoldPingFigures[]): string | undefined {
  if (!pings.some((p) => p.steps)) return undefined;
  const intervals = [...new Set(pings.flatMap((p) => (p.steps ?? []).map((s) => s.intervalMs)))].sort((a, b) => a - b);
  const at = (ms: number) => pings.map((p) => p.steps?.find((s) => s.intervalMs === ms));
  const asked = (ms: number) => at(ms).reduce((sum, s) => sum + (s?.askedPerSecond ?? 0), 0);
  const held = intervals.find((ms) => at(ms).every((s) => s?.held));
  // The slower ones after it were cut short when the hold ended: not fallen behind.
  const fell = intervals.filter((ms) => (held === undefined || ms < held) && at(ms).some((s) => s && !s.held));
  const heldText = held
    ? `every client held a Ping every ${formatCount(held)} ms (${formatCount(asked(held))} pings/s in all)`
    : 'no cadence was held by every client';
  const fellText = fell.length
    ? `not held at ${fell.map((ms) => `${formatCount(ms)} ms (${formatCount(asked(ms))}/s)`).join(', ')}`
    : 'none fell behind';
  return `cadence: ${heldText}; ${fellText}`;
}

/**
 * Where the Ping/Pong cases stop keeping up: the largest asked rate (summed over a case's clients) at which
 * every client had no timeout and a p99 under its timeout, and the smallest at which some client did not.
 */
export function kneeLine(results: Results): string | undefined {
  const cases = results.cases
    .map((c) => ({ c, pings: holdPings(c).map((x) => x.ping) }))
    // A hold that stepped down says its own cadence (cadenceLine).
    .filter((x) => x.pings.length && !x.pings.some((p) => p.steps))
    .map(({ c, pings }) => ({
      name: c.name,
      asked: pings.reduce((sum, p) => sum + p.askedPerSecond, 0),
      timeouts: pings.reduce((sum, p) => sum + p.timeouts, 0),
      p99: Math.max(...pings.map((p) => p.rttMs?.p99 ?? NaN)),
      timeoutMs: Math.min(...pings.map((p) => p.timeoutMs)),
      inTime: pings.every((p) => p.timeouts === 0 && !!p.rttMs?.count && p.rttMs.p99 < p.timeoutMs),
    }));
  if (!cases.length) return undefined;
  const kept = cases.filter((x) => x.inTime).sort((a, b) => b.asked - a.asked)[0];
  const fell = cases.filter((x) => !x.inTime).sort((a, b) => a.asked - b.asked)[0];
  const keptText = kept
    ? `every Pong in time up to ${formatCount(kept.asked)} pings/s (case '${kept.name}', p99 ${formatMs(kept.p99)})`
    : 'no case kept every Pong in time';
  const fellText = !fell
    ? 'no case fell behind'
    : fell.timeouts
      ? `at ${formatCount(fell.asked)} pings/s ${formatCount(fell.timeouts)} timeouts`
      : `at ${formatCount(fell.asked)} pings/s p99 ${formatMs(fell.p99)}, not under the ${formatCount(fell.timeoutMs)} ms timeout`;
  return `knee: ${keptText}; ${fellText}`;
}
