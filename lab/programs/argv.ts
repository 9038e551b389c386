/**
 * The command lines of the lab's programs, from typed settings: every flag is spelt here once, as the
 * program's getopt table spells it (parse_args in images/server/labserver.c and images/client/labclient.c,
 * main in images/client/labchurn.c). And the sizing that follows from how the programs use descriptors: how
 * many flood processes, or server workers, a count of connections needs under an open-file limit.
 */
import type { BindMode, HoldPing } from '../scenario/types.ts';
import { LABCHURN, LABCLIENT, LABSERVER } from './programs.ts';

/** Descriptors a flood process or a server worker keeps for itself (epoll, stdio, listeners) besides connections. */
export const FD_RESERVE = 64;

/** How often the lab has its clients print a progress line, ms (the programs' --progress-ms). */
export const CLIENT_PROGRESS_MS = 500;

/** Flood processes for `asked` connections when each process may open `nofile` files: at least one. */
export function clientProcessesFor(asked: number, nofile: number): number {
  return Math.max(1, Math.ceil(asked / (nofile - FD_RESERVE)));
}

/**
 * Server workers for `expected` connections on `ports` listeners when each worker may open `nofile` files:
 * at least one. SO_REUSEPORT spreads connections by hash, not evenly, so each worker is left a third spare.
 */
export function serverWorkersFor(expected: number, nofile: number, ports: number): number {
  return Math.max(1, Math.ceil((expected * 1.34) / (nofile - FD_RESERVE - ports)));
}

export interface LabserverArgs {
  ports: readonly number[];
  backlog: number;
  workers: number;
  deadlineSeconds: number;
  /** A progress line every this many ms; left out, the program's own default (1 s). */
  progressMs?: number;
  /** Never accept: connections wait in the accept queue. */
  acceptPaused?: boolean;
  /** Each worker accepts one connection every this many ms. */
  acceptDelayMs?: number;
  /** Close each connection after answering its Ping: the server closes first. */
  closeAfterPong?: boolean;
  /** Answer HTTP/1.1 keep-alive requests instead of Ping. */
  http?: boolean;
  /** Accept and hold, never read. */
  noRead?: boolean;
  /** Pause accepting this long after EMFILE; left out, the program's default (100 ms). */
  emfileBackoffMs?: number;
  /** Listen on [::] with IPV6_V6ONLY off: one listener per port for IPv4 and IPv6 clients alike. */
  dualStack?: boolean;
  /** With http: each answer waits this long after its request was read (a long-poll); 0 or left out, at once. */
  holdMs?: number;
}

export function labserverArgv(a: LabserverArgs): string[] {
  return [
    LABSERVER.name,
    ...option('--ports', a.ports.join(',')),
    ...option('--backlog', a.backlog),
    ...option('--workers', a.workers),
    ...option('--deadline', a.deadlineSeconds),
    ...option('--progress-ms', a.progressMs),
    ...flag('--accept-paused', a.acceptPaused),
    ...option('--accept-delay-ms', a.acceptDelayMs),
    ...flag('--close-after-pong', a.closeAfterPong),
    ...flag('--http', a.http),
    ...flag('--no-read', a.noRead),
    ...flag('--dual-stack', a.dualStack),
    ...option('--hold-ms', a.holdMs || undefined),
    ...option('--emfile-backoff-ms', a.emfileBackoffMs),
  ];
}

export interface LabclientArgs {
  /** "ip:port" or "[ip6]:port" each. */
  targets: readonly string[];
  /** Addresses each socket is bound to in turn (port 0, --bind saying how the port is picked); none: no bind but --bind's. */
  sources?: readonly string[];
  count: number;
  processes: number;
  inflight: number;
  bind: BindMode;
  /** IP_LOCAL_PORT_RANGE on every socket, [low, high]. */
  socketPortRange?: readonly [number, number];
  deadlineSeconds: number;
  /** Left out: CLIENT_PROGRESS_MS. */
  progressMs?: number;
  /** After the fill, a Ping/Pong round on every held connection, waiting at most pingWaitMs for the answers. */
  ping?: boolean;
  pingWaitMs?: number;
  holdPing?: HoldPing;
  /** With a single cadence: a worker that falls behind it stops pinging (as a hold that steps down does), so a rate past the knee ends no connection. */
  pingStopBehind?: boolean;
  /** Bytes each connection sends once up; 0 or left out, none. */
  sendBytes?: number;
  keepAsking?: boolean;
  /** 0 or left out: the program's default (10 s). */
  connectTimeoutMs?: number;
  /** Time each connect() against how many of these ports are in use. */
  costPorts?: number;
  /** The server speaks HTTP/1.1: Pings are keep-alive GET / requests, Pongs the answers' status lines. */
  http?: boolean;
  /** Each connection sends one GET of this path once up and holds on for its answer, counted per HTTP status. */
  request?: HttpRequest;
}

/** One GET per connection (labclient) or per round (labchurn), its answers counted per HTTP status. */
export interface HttpRequest {
  /** "/..." */
  path: string;
  /** labclient: how long 'filled' waits after the last connect for the answers still due; left out, 2 s. */
  answerWaitMs?: number;
  /** labchurn: the answers a connection takes before it closes (HTTP/1.1 keep-alive); left out, 1. */
  perConnection?: number;
}

export function labclientArgv(a: LabclientArgs): string[] {
  return [
    LABCLIENT.name,
    ...option('--targets', a.targets.join(',')),
    ...option('--sources', a.sources?.length ? a.sources.join(',') : undefined),
    ...option('--count', a.count),
    ...option('--processes', a.processes),
    ...option('--inflight', a.inflight),
    ...option('--bind', a.bind),
    ...option('--socket-port-range', a.socketPortRange?.join('-')),
    ...option('--deadline', a.deadlineSeconds),
    ...option('--progress-ms', a.progressMs ?? CLIENT_PROGRESS_MS),
    ...(a.ping ? ['--ping', ...option('--ping-wait-ms', a.pingWaitMs)] : []),
    ...(a.holdPing
      ? [
          ...option('--hold-ping-seconds', a.holdPing.seconds),
          ...option('--ping-interval-ms', a.holdPing.intervalMs),
          ...option('--ping-timeout-ms', a.holdPing.timeoutMs),
          ...option('--ping-step-down-ms', a.holdPing.stepDownMs?.join(',')),
          ...(a.pingStopBehind ? ['--ping-stop-behind'] : []),
        ]
      : []),
    ...option('--send-bytes', a.sendBytes || undefined),
    ...flag('--keep-asking', a.keepAsking),
    ...option('--connect-timeout-ms', a.connectTimeoutMs || undefined),
    ...option('--cost-ports', a.costPorts),
    ...flag('--http', a.http),
    ...(a.request ? [...option('--request', a.request.path), ...option('--answer-wait-ms', a.request.answerWaitMs)] : []),
  ];
}

export interface LabchurnArgs {
  /** "ip:port" or "[ip6]:port" each. */
  targets: readonly string[];
  /** New connections per second, for `seconds`. */
  rate: number;
  seconds: number;
  /** Processes that share the rate, each with its own `inflight` (1 if left out). */
  processes?: number;
  inflight: number;
  /** Must be later than `seconds`. */
  deadlineSeconds: number;
  /** Left out: CLIENT_PROGRESS_MS. */
  progressMs?: number;
  /** 0 or left out: the program's default (5 s). */
  connectTimeoutMs?: number;
  /** Read to the server's FIN before closing, as an HTTP/1.0 client would against a server that closes first. */
  waitEof?: boolean;
  /** Each round is HTTP/1.1 GETs instead of a Ping: perConnection of them, then the close. */
  request?: HttpRequest;
}

export function labchurnArgv(a: LabchurnArgs): string[] {
  return [
    LABCHURN.name,
    ...option('--targets', a.targets.join(',')),
    ...option('--rate', a.rate),
    ...option('--seconds', a.seconds),
    ...option('--processes', a.processes !== undefined && a.processes > 1 ? a.processes : undefined),
    ...option('--inflight', a.inflight),
    ...option('--deadline', a.deadlineSeconds),
    ...option('--progress-ms', a.progressMs ?? CLIENT_PROGRESS_MS),
    ...option('--connect-timeout-ms', a.connectTimeoutMs || undefined),
    ...flag('--wait-eof', a.waitEof),
    ...(a.request ? [...option('--request', a.request.path), ...option('--requests-per-connection', a.request.perConnection)] : []),
  ];
}

function option(name: string, value: string | number | undefined): string[] {
  return value === undefined ? [] : [name, String(value)];
}

function flag(name: string, on: boolean | undefined): string[] {
  return on ? [name] : [];
}
