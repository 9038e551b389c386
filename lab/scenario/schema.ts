/**
 * What a scenario may say, stated once: types.ts derives the author's types from these schemas and
 * validate.ts checks loaded scenarios against them. Each message is the reason an InputError gives after
 * the field's path. The fields of an object are checked in the order they are listed here, and the rules
 * that compare fields (superRefine) once its fields are sound.
 */
import { z } from 'zod';
import { CONNECT_FIGURES, CONNTRACK_FIGURES, MEMORY_FIGURES, PING_FIGURES } from './metrics.ts';
import { closest } from '../did-you-mean.ts';
import { overlaps, parseSubnet } from '../subnet.ts';
import { sysctlProblem, sysctlValueProblem } from './sysctls.ts';
import { isPortRange, portRangeProblem } from './port-range.ts';
import { BIND_MODES, FAMILIES, SOURCE_MODES, type HoldPing, type TheoryContext } from './theory/context.ts';

/** Server addresses take .2 to .9 of the subnet; clients start at .11. */
export const MAX_SERVER_ADDRESSES = 8;
/** Capabilities an experiment may ask for; anything broader (SYS_ADMIN) has no place in a network lab. */
export const ALLOWED_CAPABILITIES = ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE', 'SYS_PTRACE'];
export const MAX_CLIENTS = 64;
/** A client's addresses per family, its own first: the others are added inside it, as the server's are. */
export const MAX_CLIENT_ADDRESSES = 8;
/** The flood programs' own caps (MAX_PROCS in labclient.c, MAX_WORKERS in labserver.c). */
const MAX_CLIENT_PROCESSES = 1024;
const MAX_SERVER_WORKERS = 256;
export const MAX_CONNECTIONS_PER_CLIENT = 1_000_000;
export const MAX_DEADLINE_SECONDS = 3600;

const SUBJECTS = ['server', 'each client', 'all clients', 'each address', 'middle'] as const;

const textProblem = (input: unknown) => (input === undefined ? 'is missing' : 'must be a non-empty string');

function text() {
  return z.string({ error: (iss) => textProblem(iss.input) }).refine((s) => s.trim() !== '', 'must be a non-empty string');
}

function wholeNumber(min: number, max: number, expected = `a whole number from ${min} to ${max}`) {
  return z
    .number({ error: (iss) => `must be ${expected} (got ${JSON.stringify(iss.input)})` })
    .int()
    .min(min)
    .max(max);
}

function list<Item extends z.ZodType>(item: Item) {
  return z.array(item, { error: (iss) => (iss.input === undefined ? 'is missing' : 'must be a list') });
}

const flag = () => z.boolean({ error: 'must be true or false' });

/** An object that lists every field it may have: any other is refused, with the nearest listed name. */
function closedObject<Shape extends z.ZodRawShape>(shape: Shape, notAnObject = 'must be an object') {
  const fields = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? unknownField(iss.keys[0]!, fields) : notAnObject),
  });
}

/** A record whose keys are checked as well: a bad key is reported at its own path, with its key's reason. */
function checkedRecord<Key extends z.core.$ZodRecordKey, Value extends z.ZodType>(key: Key, value: Value) {
  return z.record(key, value, { error: (iss) => (iss.code === 'invalid_key' ? iss.issues[0]?.message : 'must be an object') });
}

function unknownField(key: string, fields: readonly string[]): string {
  const near = closest(key, fields, 2);
  return `unknown field${near ? ` (did you mean "${near}"?)` : ''}`;
}

const sysctlName = z.string().superRefine((name, ctx) => {
  const problem = sysctlProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: `${name} ${problem}` });
});

const sysctlValue = z.union([z.string(), z.number()], { error: 'must be a string or a number' });

export const sysctls = checkedRecord(sysctlName, sysctlValue).superRefine((values, ctx) => {
  for (const [name, value] of Object.entries(values)) {
    const problem = sysctlValueProblem(name, value);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

const capability = z.string().refine((name) => ALLOWED_CAPABILITIES.includes(name), `is not one the lab grants (${ALLOWED_CAPABILITIES.join(', ')})`);
const NEEDS_A_REASON = 'needs a sentence saying why the experiment needs it';
const capabilityReason = z.string({ error: NEEDS_A_REASON }).refine((why) => why.trim().length >= 10, NEEDS_A_REASON);

const hostSettingsShape = {
  /** Open-file limit (soft = hard) per process; defaults to the engine's ceiling, which the lab detects. */
  nofile: wholeNumber(64, 1 << 24).optional(),
  /**
   * Linux capabilities to add, each with the reason the experiment needs it (hosts run unprivileged and
   * with Docker's default set otherwise), e.g. { NET_ADMIN: 'adds a second address inside the server' }.
   */
  capabilities: checkedRecord(capability, capabilityReason).optional(),
  /** Network-namespaced sysctls set on the container (checked before anything starts). */
  sysctls: sysctls.optional(),
};
export const hostSettings = z.object(hostSettingsShape);

const serverPorts = () => list(wholeNumber(1, 65535)).min(1, 'needs at least one port').superRefine(eachOnce);

export const serverProgram = closedObject(
  {
    /**
     * The command run in the server container instead of labserver, bounded by the scenario's deadline. It
     * must stay in the foreground (nginx: -g 'daemon off;'); its exit ends the case as labserver's would.
     */
    command: list(z.string({ error: 'must be a string' })).min(1, 'needs at least the program to run'),
    /**
     * A Dockerfile, relative to the scenario file, that builds the server image FROM the lab's server image
     * (ARG LAB_SERVER_IMAGE / FROM \${LAB_SERVER_IMAGE}); its folder is the build context.
     */
    dockerfile: text().optional(),
    /** The ports it listens on, on every address of the server (then server.ports is not needed). */
    ports: serverPorts().optional(),
    /**
     * When it is ready: once a listener on `port` (by default every one of its ports) shows in the server's
     * kernel (ss -lnt), waited for at most timeoutSeconds (default 30). No fixed sleeps.
     */
    ready: closedObject(
      { port: wholeNumber(1, 65535).optional(), timeoutSeconds: wholeNumber(1, 600).optional() },
      'must be { port?: N, timeoutSeconds?: N }',
    ).optional(),
    /**
     * What it answers, for the lab's Ping round and hold-ping: 'http' (each Ping is a keep-alive GET / and
     * its Pong the status line of the answer) or 'ping' (Ping, Pong: labserver's). Without it they are refused.
     */
    protocol: z.enum(['ping', 'http'], { error: "must be 'ping' or 'http'" }).optional(),
    /**
     * What the program is set to (nginx's worker_connections, ...), handed to predict() as
     * ctx.server.settings: write the command from them, and the theory reads the same values.
     */
    settings: z
      .record(z.string(), z.union([z.number(), z.string(), z.boolean()]), { error: 'must be an object of numbers, strings and true/false' })
      .optional(),
  },
  'must be { command: [...], dockerfile?: "path", ports?: [...], ready?: { port?, timeoutSeconds? }, protocol?, settings?: {...} }',
);

/** Settings only labserver has: a program of one's own sets its own (its config file, its flags). */
export const LAB_SERVER_SETTINGS = [
  'backlog',
  'accept',
  'closeFirst',
  'holdUnread',
  'workers',
  'emfileBackoffMs',
  'protocol',
  'holdAnswersMs',
] as const;

const serverFields = closedObject({
  /** Ports the server listens on, on every one of its addresses (or server.program.ports). */
  ports: serverPorts().optional(),
  /** Your own server program instead of labserver: how many connections does it hold, and what stops it? */
  program: serverProgram.optional(),
  /** listen() backlog; the kernel caps it at net.core.somaxconn. */
  backlog: wholeNumber(0, 1 << 20).optional(),
  /** How the server accepts: at once (default), never ('paused'), or one connection per worker every N ms. */
  accept: z
    .union([z.literal('immediate'), z.literal('paused'), closedObject({ everyMs: wholeNumber(1, 60_000) })], {
      error: "must be 'immediate', 'paused' or { everyMs: N }",
    })
    .optional(),
  /** The server closes each connection after answering its Ping: the server closes first. */
  closeFirst: flag().optional(),
  /** Accept and hold every connection but never read from it: what clients send stays in the receive queues. */
  holdUnread: flag().optional(),
  /** SO_REUSEPORT worker processes; by default as many as the open-file limit needs for the connections asked. */
  workers: wholeNumber(1, MAX_SERVER_WORKERS).optional(),
  /**
   * How long the server stops accepting after accept() fails with EMFILE (default 100 ms). 0 retries at once:
   * the listener stays readable, so the accept loop spins, as a naive server's does.
   */
  emfileBackoffMs: wholeNumber(0, 60_000).optional(),
  /** What the server speaks: Ping/Pong (default), or enough HTTP/1.1 for keep-alive clients (an empty 200 each). */
  protocol: z.enum(['ping', 'http'], { error: "must be 'ping' or 'http'" }).optional(),
  /**
   * With protocol 'http': each answer waits this long after its request was read (a long-poll backend that
   * holds every request; past the deadline, never answered).
   */
  holdAnswersMs: wholeNumber(1, 100_000_000).optional(),
  /**
   * How many IP addresses the server answers on (1 by default). Docker gives a container one address per
   * network; the others are added inside the server, which needs capabilities: { NET_ADMIN: 'why' }.
   */
  addresses: wholeNumber(1, MAX_SERVER_ADDRESSES).optional(),
  ...hostSettingsShape,
});

/** A port listed twice would be one listener, yet counted as two destinations by the theory. */
function eachOnce(ports: readonly number[], ctx: z.RefinementCtx): void {
  ports.forEach((port, i) => {
    if (ports.indexOf(port) < i) ctx.addIssue({ code: 'custom', path: [i], message: `${port} is listed twice` });
  });
}

function addressesNeedNetAdmin(
  server: { addresses?: number | undefined; capabilities?: Record<string, string> | undefined },
  ctx: z.RefinementCtx,
): void {
  const problem = netAdminProblem('server', server);
  if (problem) ctx.addIssue({ code: 'custom', path: ['addresses'], message: problem });
}

/** Addresses beyond the one the runtime gives a host are added inside it: that needs NET_ADMIN, with its reason. */
export function netAdminProblem(
  role: 'server' | 'client',
  host: { addresses?: number | undefined; capabilities?: Record<string, string> | undefined },
): string | undefined {
  if ((host.addresses ?? 1) <= 1 || host.capabilities?.NET_ADMIN) return undefined;
  return `${host.addresses} addresses are added inside the ${role}: declare capabilities: { NET_ADMIN: '<why>' } beside it`;
}

export const serverSpec = serverFields.superRefine(addressesNeedNetAdmin).superRefine((server, ctx) => {
  if (server.holdAnswersMs && server.protocol !== 'http')
    ctx.addIssue({ code: 'custom', path: ['holdAnswersMs'], message: "holds HTTP answers: it needs protocol 'http'" });
  if (!server.ports && !server.program?.ports)
    ctx.addIssue({ code: 'custom', path: ['ports'], message: 'is missing (the ports the server listens on; or server.program.ports)' });
});
const serverOverrides = serverFields.partial().superRefine(addressesNeedNetAdmin);

/** Addresses of the middle tier: its own, and those added in its namespace from outside (.254 downwards). */
export const MAX_MIDDLE_ADDRESSES = 8;
/**
 * A gateway's small conntrack table: the lab lowers the machine's one nf_conntrack_max to it for the case
 * (every namespace on the machine gets it), so never below 1000, and small.
 */
export const CONNTRACK_MAX_BOUNDS = { min: 1000, max: 65_536 } as const;

/** A port range written "LOW HIGH", each problem said as the port-range module says it. */
const portRangeText = z.string({ error: 'must be "LOW HIGH" such as "40000 40999"' }).superRefine((text, ctx) => {
  const problem = portRangeProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A NAT gateway between the clients and the server (one-armed, on the run's network): the clients' route to
 * the server goes through it, it forwards and rewrites their source (MASQUERADE) to its own address.
 */
export const natMiddle = closedObject(
  {
    kind: z.literal('nat'),
    /**
     * Addresses it translates to (1 by default: MASQUERADE to its own). With several, each client is given one
     * in turn (SNAT by source), so that every address serves its share of the clients.
     */
    addresses: wholeNumber(1, MAX_MIDDLE_ADDRESSES).optional(),
    /**
     * The ports translation picks from, "LOW HIGH" (iptables --to-ports): by default the kernel keeps a
     * client's port where it is free and otherwise searches 1024-65535. A narrow range reaches the same wall sooner.
     */
    ports: portRangeText.optional(),
    /** --random-fully: every translated port is picked at random, none kept from the client. */
    randomFully: flag().optional(),
    /**
     * A small conntrack table in the gateway ("table full"): the kernel keeps one nf_conntrack_max per machine,
     * so the lab lowers it, machine-wide, for this case alone, with the machine to itself, and puts it back.
     */
    conntrackMax: wholeNumber(CONNTRACK_MAX_BOUNDS.min, CONNTRACK_MAX_BOUNDS.max).optional(),
    ...hostSettingsShape,
  },
  'must be { kind: \'nat\', addresses?, ports?: "LOW HIGH", randomFully?, conntrackMax?, sysctls?, nofile?, capabilities? }',
);

/** A reverse proxy's settings, written into its nginx.conf or haproxy.cfg (lab/proxy/). */
export const proxySettings = closedObject(
  {
    /**
     * Idle upstream connections kept for reuse (nginx `keepalive N` per worker; HAProxy `http-reuse always`
     * with `pool-max-conn N`); 0, the default: a new upstream connection for every request.
     */
    keepalive: wholeNumber(0, 100_000).optional(),
    /**
     * Addresses its upstream connections leave from, in turn (nginx proxy_bind over split_clients, HAProxy a
     * server line per `source`): 1 by default, its own. The others are added in its namespace from outside.
     */
    sources: wholeNumber(1, MAX_MIDDLE_ADDRESSES).optional(),
    /** Connecting to a backend (default 5 s). */
    connectTimeoutMs: wholeNumber(1, 3_600_000).optional(),
    /** Waiting for a backend's answer (default 10 minutes): past it the client gets 504. */
    upstreamTimeoutMs: wholeNumber(1, 3_600_000).optional(),
    /** An idle client connection (default 10 minutes). */
    clientTimeoutMs: wholeNumber(1, 3_600_000).optional(),
    /** nginx worker processes, HAProxy threads (default 1). */
    workers: wholeNumber(1, 64).optional(),
    /** nginx worker_connections per worker, HAProxy maxconn (by default what the open-file limit leaves room for). */
    connections: wholeNumber(1, 1 << 20).optional(),
    /** The listen backlog (default 4096; the kernel caps it at net.core.somaxconn). */
    backlog: wholeNumber(1, 1 << 20).optional(),
  },
  'must be { keepalive?, sources?, connectTimeoutMs?, upstreamTimeoutMs?, clientTimeoutMs?, workers?, connections?, backlog? }',
);

/**
 * A reverse proxy between the clients and the server: the clients connect to it, it connects onward to the
 * server's endpoints (its backends). Its settings are the proxy's (helper B's part of issue 30).
 */
export const proxyMiddle = closedObject(
  {
    kind: z.literal('proxy'),
    software: z.enum(['nginx', 'haproxy'], { error: "must be 'nginx' or 'haproxy'" }),
    /** The ports it listens on, which the clients connect to (80 by default). */
    ports: serverPorts().optional(),
    /** What the proxy is set to (upstream keepalive, source addresses, timeouts, its own limits). */
    settings: proxySettings.optional(),
    ...hostSettingsShape,
  },
  "must be { kind: 'proxy', software: 'nginx' | 'haproxy', ports?, settings?, sysctls?, nofile?, capabilities? }",
);

const MIDDLE_KINDS = "must be { kind: 'nat', ... } (a NAT gateway) or { kind: 'proxy', ... } (a reverse proxy)";

/** The middle tier: one host between the clients and the server, of one kind. */
export const middleSpec = z.discriminatedUnion('kind', [natMiddle, proxyMiddle], {
  error: (iss) =>
    iss.code === 'invalid_union' && typeof iss.input === 'object' && iss.input !== null && 'kind' in iss.input
      ? `kind ${JSON.stringify((iss.input as { kind: unknown }).kind)} is not 'nat' or 'proxy'`
      : MIDDLE_KINDS,
});

/** Cadences a hold may step down to after the one asked (labclient keeps eight in all). */
export const MAX_STEP_DOWNS = 7;

export const holdPing: z.ZodType<HoldPing> = closedObject(
  {
    seconds: wholeNumber(1, MAX_DEADLINE_SECONDS),
    intervalMs: wholeNumber(1, 3_600_000),
    timeoutMs: wholeNumber(1, 3_600_000),
    stepDownMs: list(wholeNumber(1, 3_600_000))
      .min(1, 'needs at least one slower interval (or leave it out)')
      .max(MAX_STEP_DOWNS, `takes at most ${MAX_STEP_DOWNS} intervals`)
      .optional(),
  },
  'must be { seconds, intervalMs, timeoutMs, stepDownMs? }',
).superRefine((hold, ctx) => {
  const steps = [hold.intervalMs, ...(hold.stepDownMs ?? [])];
  const index = steps.findIndex((ms, i) => i > 0 && ms <= steps[i - 1]!);
  if (index > 0)
    ctx.addIssue({
      code: 'custom',
      path: ['stepDownMs', index - 1],
      message: `must be slower than the cadence before it (${steps[index - 1]} ms): each step down is a longer interval`,
    });
});

export const clientProgram = closedObject(
  {
    /**
     * The command run in each client, bounded by the scenario's deadline. {target} is the first server
     * "ip:port", {targets} all of them comma-separated, {url} "http://ip:port/". It may print the lab's JSON
     * line {"type":"filled","established":N,"failed":N,"errors":{"EADDRNOTAVAIL":N}} before it exits.
     */
    command: list(z.string({ error: 'must be a string' })).min(1, 'needs at least the program to run'),
    /**
     * A Dockerfile, relative to the scenario file, that builds the client image FROM the lab's client image
     * (ARG LAB_CLIENT_IMAGE / FROM \${LAB_CLIENT_IMAGE}); its folder is the build context.
     */
    dockerfile: text().optional(),
  },
  'must be { command: [...], dockerfile?: "path" }',
);

export const bindMode = z.enum(BIND_MODES, { error: `must be one of ${BIND_MODES.join(', ')}` });
export const sourceMode = z.enum(SOURCE_MODES, { error: `must be one of ${SOURCE_MODES.join(', ')}` });
export const family = z.enum(FAMILIES, { error: `must be one of ${FAMILIES.map((f) => `'${f}'`).join(', ')}` });

const SOCKET_PORT_RANGE = 'must be "LOW HIGH" with 1 <= LOW <= HIGH <= 65535';

export const clientSpec = closedObject({
  /** Connections this client asks for, or 'fill': as many as its port range can give (then a few more). */
  connections: z
    .union([wholeNumber(1, MAX_CONNECTIONS_PER_CLIENT, `a number from 1 to ${MAX_CONNECTIONS_PER_CLIENT} or 'fill'`), z.literal('fill')], {
      error: (iss) => `must be a number from 1 to ${MAX_CONNECTIONS_PER_CLIENT} or 'fill' (got ${JSON.stringify(iss.input)})`,
    })
    .optional(),
  /** Connects in flight per flood process. */
  inflight: wholeNumber(1, 65536).optional(),
  /** How long a connect may stay unanswered before it counts as ETIMEDOUT (default 10 s). */
  connectTimeoutMs: wholeNumber(100, 600_000).optional(),
  /** How long the Ping round waits for the last answers (default 300 s; it ends as soon as all are in). */
  pingWaitMs: wholeNumber(100, 600_000).optional(),
  /** Flood processes; by default as many as the open-file limit needs. 1 makes the per-process limit visible. */
  processes: wholeNumber(1, MAX_CLIENT_PROCESSES).optional(),
  /** Bytes each connection sends once it is up (the server may leave them unread: socket-memory). */
  sendBytes: wholeNumber(1, 64 << 20).optional(),
  /**
   * connscale's hold: after the fill, every connection sends "Ping" every intervalMs for `seconds` and waits
   * for "Pong" within timeoutMs; a late or missing Pong is a timeout and ends that connection. Round trips
   * go into a histogram inside the program (metrics ping.sent, ping.pongs, ping.timeouts, ping.perSecond,
   * ping.p50 ... ping.max in ms).
   */
  holdPing: holdPing.optional(),
  /** Your own client program instead of the lab's flood: does it exhaust ports? */
  program: clientProgram.optional(),
  /**
   * Instead of opening and holding: short-lived connections at `rate` per second for `seconds` (connect, Ping,
   * Pong, close: the client closes first unless the server does). For the TIME_WAIT experiments, and with
   * `processes` several at once in one namespace (each a share of the rate) for connect()'s contention.
   */
  churn: closedObject(
    { rate: wholeNumber(1, 100_000), seconds: wholeNumber(1, 600) },
    'must be { rate: connections per second, seconds: N }',
  ).optional(),
  /**
   * HTTP/1.1 against a proxy (or an HTTP server): each connection sends "GET path" once it is up and holds on
   * for the answer (a long-poll; the fill waits answerWaitMs after the last connect for the answers still due),
   * or with churn takes perConnection answers, one request after another, before it closes. The answers are
   * counted per HTTP status (metrics http.200, http.502, ...).
   */
  request: closedObject(
    {
      path: z
        .string({ error: 'must be a path such as "/"' })
        .regex(/^\/[^\s]{0,199}$/, 'must be a path such as "/" with no spaces')
        .optional(),
      answerWaitMs: wholeNumber(1, 3_600_000).optional(),
      perConnection: wholeNumber(1, 1_000_000).optional(),
    },
    'must be { path?: "/...", answerWaitMs?, perConnection? }',
  ).optional(),
  /** After the fill, a Ping/Pong round on every held connection (measured as metric 'pongs'). */
  ping: flag().optional(),
  /**
   * Time every connect() that gets a port, by how full the port range was when it was called (metrics
   * connect.sparseUs, connect.at10 ... connect.at99): the cost of the kernel's port search under pressure.
   */
  connectCost: flag().optional(),
  /**
   * Make exactly `connections` attempts even after EADDRNOTAVAIL or EADDRINUSE. By default a client stops
   * asking a destination once its range is spent (each further failure costs a scan of the whole range);
   * where a failure is a clash rather than exhaustion (ip_autobind_reuse) the experiment needs every try.
   */
  keepAsking: flag().optional(),
  bind: bindMode.optional(),
  /**
   * How many IP addresses the client has in each family it connects over (1 by default): Docker gives it one,
   * the others are added inside it, which needs capabilities: { NET_ADMIN: 'why' }.
   */
  addresses: wholeNumber(1, MAX_CLIENT_ADDRESSES).optional(),
  /**
   * Which addresses its sockets leave from: 'route' (default; none bound: the kernel takes the route's
   * source, one address per family, whatever else the client has), 'bind' (each socket bound to its
   * addresses in turn with port 0: bind() picks the port, one range per address) or 'nobindport' (the same
   * with IP_BIND_ADDRESS_NO_PORT: connect() picks it, one range per address and destination).
   */
  source: sourceMode.optional(),
  /**
   * IP_LOCAL_PORT_RANGE on every socket before connect(), "LOW HIGH": a per-socket range inside the
   * namespace's (Linux 6.3+; older kernels refuse the option with ENOPROTOOPT).
   */
  socketPortRange: z.string({ error: SOCKET_PORT_RANGE }).refine(isPortRange, SOCKET_PORT_RANGE).optional(),
  ...hostSettingsShape,
}).superRefine((client, ctx) => {
  if (client.keepAsking && (client.connections === undefined || client.connections === 'fill')) {
    ctx.addIssue({ code: 'custom', path: ['keepAsking'], message: "needs a number of connections to attempt, not 'fill'" });
  }
  const problem = sourceBindProblem(client);
  if (problem) ctx.addIssue({ code: 'custom', path: ['bind'], message: problem });
  const other = client.ping ? 'ping' : client.holdPing ? 'holdPing' : client.program ? 'program' : client.sendBytes ? 'sendBytes' : undefined;
  if (client.request && other) ctx.addIssue({ code: 'custom', path: ['request'], message: `is a mode of its own: leave ${other} out` });
  if (client.request?.perConnection && client.request.perConnection > 1 && !client.churn)
    ctx.addIssue({
      code: 'custom',
      path: ['request', 'perConnection'],
      message: 'takes several answers per connection only in a churn (client.churn): a held request waits for one',
    });
});

/** A source mode that binds each socket to an address leaves no room for a bind to the wildcard (client.bind). */
export function sourceBindProblem(client: { source?: string | undefined; bind?: string | undefined }): string | undefined {
  if (!client.source || client.source === 'route' || !client.bind || client.bind === 'none') return undefined;
  return `'${client.bind}' binds to the wildcard address, and source '${client.source}' binds each socket to one of the client's addresses: leave bind out (or use source 'route')`;
}

export const prediction = z.object({
  min: z.number(),
  max: z.union([z.number(), z.literal(Infinity)]),
  /** How the number was reached, shown beside it ("28232 ports - 1 bound by a listener"). */
  why: z.string().optional(),
  /** The claim does not apply here (doesNotApply: this kernel has no such option); why says why. */
  doesNotApply: z.literal(true).optional(),
});

export const subject = z.enum(SUBJECTS, { error: `must be one of ${SUBJECTS.map((s) => `'${s}'`).join(', ')}` });

const oneOf = (names: readonly string[]) => new RegExp(`^(${names.join('|')})$`);

export const metric = z.union(
  [
    z.enum(['estab', 'timewait', 'opened', 'pongs', 'accepted', 'listen.backlog', 'fromMiddle']),
    z.templateLiteral(['errors.', z.string().regex(/^E[A-Z]+$/)]),
    z.templateLiteral(['nstat.', z.string().regex(/^[A-Za-z]+$/)]),
    z.templateLiteral(['ping.', z.string().regex(oneOf(PING_FIGURES))]),
    z.templateLiteral(['memory.', z.string().regex(oneOf(MEMORY_FIGURES))]),
    z.templateLiteral(['connect.', z.string().regex(oneOf(CONNECT_FIGURES))]),
    z.templateLiteral(['conntrack.', z.string().regex(oneOf(CONNTRACK_FIGURES))]),
    z.templateLiteral(['http.', z.string().regex(/^([1-5][0-9][0-9]|other)$/)]),
  ],
  {
    error: (iss) =>
      typeof iss.input === 'string' && iss.input.trim() !== ''
        ? `"${iss.input}" is not estab, timewait, opened, pongs, accepted, listen.backlog, errors.<ERRNO>, nstat.<Counter>, ping.<figure>, memory.<figure>, connect.<figure>, conntrack.<figure>, http.<status> or fromMiddle`
        : textProblem(iss.input),
  },
);

export const expectation = closedObject({
  claim: text(),
  subject,
  metric,
  predict: z.custom<(ctx: TheoryContext) => z.infer<typeof prediction> | number>(
    (value) => typeof value === 'function',
    'must be a function of the theory context',
  ),
}).superRefine((e, ctx) => {
  if (e.subject === 'each address' && e.metric !== 'estab') {
    ctx.addIssue({
      code: 'custom',
      path: ['metric'],
      message: `"${e.metric}" is not counted per address: subject 'each address' takes 'estab' (the kernel's count per source address)`,
    });
  }
});

const expectations = list(expectation);

const caseOverridesShape = {
  clients: wholeNumber(1, MAX_CLIENTS).optional(),
  /**
   * The IP family the case connects over: 'ipv4' (default), 'ipv6', or 'dual' (both side by side, each
   * client to each server address in both). The run's network then has an IPv6 /64 of its own (a ULA).
   */
  family: family.optional(),
  /** Seconds to hold the connections after the fill (and ping) before the kernel's view is collected. */
  holdSeconds: wholeNumber(0, MAX_DEADLINE_SECONDS).optional(),
  client: clientSpec.optional(),
  server: serverOverrides.optional(),
  /** A host between the clients and the server (over the scenario's; a layer of another kind replaces it). */
  middle: middleSpec.optional(),
};
export const caseOverrides = closedObject(caseOverridesShape);

export const caseSpec = closedObject({
  name: text(),
  /** One or two sentences a presenter can read out before the case runs. */
  about: text().optional(),
  ...caseOverridesShape,
  /** Overrides for --quick: narrower ranges and counts, the same laws. */
  quick: caseOverrides.optional(),
  /** Expectations for this case, in addition to the scenario's own. */
  expect: expectations.optional(),
});

const cases = list(caseSpec)
  .min(1, 'needs at least one case')
  .superRefine((all, ctx) => {
    all.forEach((c, i) => {
      if (all.findIndex((earlier) => earlier.name === c.name) < i) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${c.name}" is used by an earlier case` });
      }
    });
  });

function isSubnet(text: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  return !!m && m.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(m[5]) >= 16 && Number(m[5]) <= 29;
}

/** The range the lab keeps its networks in (RFC 2544): the host routes a run's subnet, so never a public one. */
export const BENCHMARKING_RANGE = '198.18.0.0/15';

/** A /16 or narrower subnet is either inside the /15 or clear of it: no partial overlap. */
function isBenchmarking(text: string): boolean {
  return parseSubnet(text).prefix >= 15 && overlaps(text, BENCHMARKING_RANGE);
}

const subnet = text().superRefine((cidr, ctx) => {
  if (cidr.trim() === '') return;
  if (!isSubnet(cidr)) ctx.addIssue({ code: 'custom', message: `"${cidr}" is not an IPv4 subnet from /16 to /29 such as "198.18.7.0/24"` });
  else if (!isBenchmarking(cidr)) {
    ctx.addIssue({ code: 'custom', message: `${cidr} is outside ${BENCHMARKING_RANGE}, the benchmarking range the lab keeps its networks in` });
  }
});

/** The results folder is named <scenario>-<run id>: a name must leave room for it in a file name. */
export const MAX_SCENARIO_NAME = 64;

/** A scenario module's default export, as defineScenario makes it. */
export const scenario = closedObject({
  kind: z.literal('lab.scenario'),
  name: text()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes')
    .max(MAX_SCENARIO_NAME, {
      error: (iss) => `is ${String(iss.input).length} characters long: at most ${MAX_SCENARIO_NAME} (the results folder is named after it)`,
    }),
  /** The one-line claim the scenario tests. */
  claim: text(),
  /** The story and the rule, for `lab explain` and a presenter. */
  story: text().optional(),
  /** Which seeds in shared/seeds it replays. */
  seeds: list(text()).optional(),
  server: serverSpec,
  client: clientSpec.optional(),
  /** A host between the clients and the server in every case (a NAT gateway or a reverse proxy); cases may set their own. */
  middle: middleSpec.optional(),
  /** Hard limit for each flood, enforced inside the flood program as well as by the lab. */
  deadlineSeconds: wholeNumber(1, MAX_DEADLINE_SECONDS).optional(),
  /** Subnet of the run's internal network, inside 198.18.0.0/15 (RFC 2544); by default a free /24 there. */
  subnet: subnet.optional(),
  /** The IP family every case connects over unless it says otherwise ('ipv4' by default; see cases[].family). */
  family: family.optional(),
  expect: expectations.optional(),
  cases,
}).superRefine((spec, ctx) => {
  if (spec.expect !== undefined) return;
  spec.cases.forEach((c, i) => {
    if (c.expect === undefined) ctx.addIssue({ code: 'custom', path: ['cases', i, 'expect'], message: 'the case has no expectation to check' });
  });
});
