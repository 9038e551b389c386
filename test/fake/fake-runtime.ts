/**
 * A runtime for unit tests of the run's orchestration: no root, no engine, no processes. It simulates just
 * enough of a kernel: each host keeps a count of established connections; the programs its plan names answer
 * as labserver and labclient would (a client "connects" what its port range allows and the server's count
 * grows by as much); the collector's and the sampler's shell scripts read that state back in the sections the
 * lab parses. Every call lands in `journal`, in order ('createNetwork 198.18.0.0/24', 'startHosts server,client-1',
 * 'spawn client-1 labclient', 'exec server collect', 'remove server', 'close'); faults are options.
 */
import { overlaps } from '../../lab/subnet.ts';
import type { PlannedClient, PlannedHost, PlannedServer } from '../../lab/plan/plan.ts';
import {
  SubnetTaken,
  type EnvironmentFingerprint,
  type ExecResult,
  type Host,
  type LabNetwork,
  type Log,
  type RunningProgram,
  type RunSession,
  type Runtime,
} from '../../lab/runtime/runtime.ts';
import { parsePortRange } from '../../lab/scenario/port-range.ts';
import { RuntimeFailure } from '../../lab/errors.ts';

export interface FakeOptions {
  name?: string;
  /** `uname -r` of the fake hosts (default 6.1.0-fake). */
  kernel?: string;
  /** Default 1048576. */
  nofileCeiling?: number;
  /** Subnets other networks already hold. */
  subnetsInUse?: string[];
  /** No client connects more than this, whatever its range. */
  connectCap?: number;
  /** These clients' programs exit with code 1 before they fill. */
  failingClients?: string[];
  /** The server program cannot listen: it prints an error line with this message and exits with code 1. */
  serverError?: string;
  /** createNetwork rejects with SubnetTaken this many times first (someone else's network took the subnet). */
  subnetTaken?: number;
  /** Once a call whose journal entry starts with this has been made, the engine stops answering (its hosts die). */
  engineStopsAfter?: string;
  /** Once a call whose journal entry starts with `after` has been made, that host vanishes (killed). */
  hostVanishes?: { host: string; after: string };
  /** A call whose journal entry starts with this never settles: it rejects when its host is removed or the session closes. */
  hangsAt?: string;
  /** close() cannot remove the network: it rejects with this message, as the engine refusing would. */
  networkStays?: string;
}

/** What a fresh namespace has where the plan says nothing. */
export const DEFAULT_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_local_port_range': '32768 60999',
  'net.ipv4.ip_local_reserved_ports': '',
  'net.core.somaxconn': '4096',
  'net.ipv4.tcp_tw_reuse': '2',
  'net.ipv4.tcp_max_syn_backlog': '4096',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv4.tcp_fin_timeout': '60',
};

export class FakeRuntime implements Runtime {
  readonly name: string;
  readonly hostKind = 'fake host';
  readonly can = { programImages: false, ipv6: true, hostMemoryCgroups: false, natGateway: false, machineOfItsOwn: false };
  readonly journal: string[] = [];
  /** Every host any session started, removed or not. */
  readonly hosts: FakeHost[] = [];
  readonly sessions: FakeSession[] = [];
  /** Subnets of the engine's networks: others', and the run's own while it exists. */
  readonly inUse: string[];

  constructor(readonly options: FakeOptions = {}) {
    this.name = options.name ?? 'fake';
    this.inUse = [...(options.subnetsInUse ?? [])];
  }

  open(runId: string): FakeSession {
    this.journal.push(`open ${runId}`);
    const session = new FakeSession(this, runId);
    this.sessions.push(session);
    return session;
  }

  /** What the sessions' close() has not removed (should be nothing once a run has ended). */
  leftovers(): string[] {
    return this.sessions.flatMap((s) => [
      ...s.hosts.filter((h) => !h.removed).map((h) => `host ${h.plan.name}`),
      ...(s.network ? [`network ${s.network.name}`] : []),
    ]);
  }
}

export class FakeSession implements RunSession {
  down = false;
  network?: LabNetwork;
  hosts: FakeHost[] = [];
  private taken = 0;
  private hung: Array<{ host?: FakeHost; reject: (error: Error) => void }> = [];

  constructor(
    readonly fake: FakeRuntime,
    readonly runId: string,
  ) {}

  /** Journals a call, then fails, hangs or does it as the options say; triggers the faults that follow it. */
  async call<T>(entry: string, host: FakeHost | undefined, work: () => T): Promise<T> {
    const { options, journal } = this.fake;
    journal.push(entry);
    if (this.down) throw new Error(`the fake engine does not answer (${entry})`);
    if (host?.gone) throw new Error(`no such host: ${host.plan.name}`);
    if (options.hangsAt && entry.startsWith(options.hangsAt))
      await new Promise<never>((_, reject) => this.hung.push({ ...(host && { host }), reject }));
    const result = work();
    if (options.engineStopsAfter && entry.startsWith(options.engineStopsAfter)) {
      this.down = true;
      this.hosts.forEach((h) => h.vanish());
    }
    const vanishing = options.hostVanishes;
    if (vanishing && entry.startsWith(vanishing.after)) this.hosts.find((h) => h.plan.name === vanishing.host)?.vanish();
    return result;
  }

  /** Rejects the hung calls of one host, or all of them. */
  release(host?: FakeHost): void {
    const [going, staying] = [this.hung.filter((h) => !host || h.host === host), this.hung.filter((h) => host && h.host !== host)];
    this.hung = staying;
    going.forEach((h) => h.reject(new Error(host ? `host ${host.plan.name} removed` : 'session closed')));
  }

  get server(): FakeHost | undefined {
    return this.hosts.find((h) => h.plan.role === 'server' && !h.gone);
  }

  connect = (log: Log): Promise<void> => this.call('connect', undefined, () => log('fake engine reached'));
  prepare = (log: Log): Promise<void> => this.call('prepare', undefined, () => log('fake images ready'));
  nofileCeiling = (): Promise<number> => this.call('nofileCeiling', undefined, () => this.fake.options.nofileCeiling ?? 1_048_576);
  subnetsInUse = (): Promise<string[]> => this.call('subnetsInUse', undefined, () => [...this.fake.inUse]);
  fingerprint = (): Promise<EnvironmentFingerprint> =>
    this.call('fingerprint', undefined, () => ({
      runtime: this.fake.name,
      hostKind: this.fake.hostKind,
      kernel: this.fake.options.kernel ?? '6.1.0-fake',
      engine: 'fake engine 1.0',
    }));
  /** No machine of its own to read limits on. */
  machineShell = (): undefined => void this.fake.journal.push('machineShell');
  /** Never fails: false once the engine has stopped. */
  silentEngine = async (): Promise<string | undefined> => (this.fake.journal.push('answers'), this.down ? 'the fake engine' : undefined);

  createNetwork(subnet: string): Promise<LabNetwork> {
    return this.call(`createNetwork ${subnet}`, undefined, () => {
      if (this.taken < (this.fake.options.subnetTaken ?? 0) || this.fake.inUse.some((u) => overlaps(u, subnet))) {
        this.taken++;
        this.fake.inUse.push(subnet);
        throw new SubnetTaken(subnet);
      }
      this.fake.inUse.push(subnet);
      this.network = { name: `lab-${this.runId}`, subnet };
      return this.network;
    });
  }

  startHosts(_network: LabNetwork, plans: PlannedHost[]): Promise<Host[]> {
    return this.call(`startHosts ${plans.map((p) => p.name).join(',')}`, undefined, () => {
      const started = plans.map((p) => new FakeHost(this, p));
      this.hosts.push(...started);
      this.fake.hosts.push(...started);
      return started;
    });
  }

  async close(): Promise<string[]> {
    this.fake.journal.push('close');
    if (this.network && this.fake.options.networkStays) {
      this.release();
      throw new RuntimeFailure(
        `could not remove network ${this.network.name} (${this.fake.options.networkStays})`,
        '`lab clean` removes what is left',
      );
    }
    const removed = this.hosts.filter((h) => !h.removed).map((h) => (h.discard(), `host ${h.plan.name}`));
    if (this.network) {
      removed.push(`network ${this.network.name}`);
      this.fake.inUse.splice(this.fake.inUse.indexOf(this.network.subnet), 1);
      delete this.network;
    }
    this.release();
    return removed;
  }
}

/** A program in a fake host: it prints lines on later turns and ends with a code (143 on TERM, 137 on KILL). */
class FakeProgram implements RunningProgram {
  readonly exited: Promise<number>;
  code?: number;
  private errorText = '';
  private resolveExit!: (code: number) => void;

  constructor(
    private readonly host: FakeHost,
    readonly name: string,
    private readonly onEnd: () => void = () => {},
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    host.programs.add(this);
  }

  get running(): boolean {
    return this.code === undefined;
  }

  end(code: number, stderr = ''): void {
    if (!this.running) return;
    this.code = code;
    this.errorText += stderr;
    this.host.programs.delete(this);
    this.onEnd();
    this.resolveExit(code);
  }

  async signal(signal: 'TERM' | 'KILL' | 'USR2'): Promise<void> {
    this.host.session.fake.journal.push(`signal ${this.host.plan.name} ${this.name} ${signal}`);
    if (signal === 'TERM') this.end(143);
    if (signal === 'KILL') this.end(137);
  }

  readonly stderr = (): string => this.errorText;

  /** Prints lines on a later turn, as a real program's arrive; none once it has ended. */
  print(onLine: (line: string) => void, lines: () => string[], then?: () => void): void {
    setImmediate(() => {
      if (!this.running) return;
      lines().forEach((line) => onLine(line));
      then?.();
    });
  }
}

export class FakeHost implements Host {
  /** Established connections the host's namespace holds. */
  established = 0;
  /** Removed by the run, or vanished. */
  gone = false;
  removed = false;
  readonly programs = new Set<FakeProgram>();
  private listening: number[] = [];
  private accepted = 0;
  private serverLine?: (line: string) => void;
  private readonly stopFiles = new Map<string, () => void>();

  constructor(
    readonly session: FakeSession,
    readonly plan: PlannedHost,
  ) {}

  exec = (argv: string[]): Promise<ExecResult> => this.session.call(`exec ${this.plan.name} ${describe(argv)}`, this, () => this.answer(argv));
  spawn = (argv: string[], onLine: (line: string) => void): Promise<RunningProgram> =>
    this.session.call(`spawn ${this.plan.name} ${describe(argv)}`, this, () => this.start(argv, onLine));
  alive = async (): Promise<boolean> => (this.session.fake.journal.push(`alive ${this.plan.name}`), !this.gone && !this.session.down);
  /** A vanished host counts as removed from outside (as `docker rm` would leave it). */
  exists = async (): Promise<boolean> => !this.gone && !this.removed;
  /** A vanished host is removed without complaint (as a 404 is); with the engine gone, it rejects. */
  remove = (): Promise<void> => this.session.call(`remove ${this.plan.name}`, undefined, () => this.discard());

  /** Killed under the run: its programs end as SIGKILL ends them, its connections go. */
  vanish(): void {
    if (this.gone) return;
    this.gone = true;
    [...this.programs].forEach((p) => p.end(137));
    this.session.release(this);
  }

  discard(): void {
    this.vanish();
    this.removed = true;
  }

  sysctl(name: string): string {
    return this.plan.sysctls[name] ?? DEFAULT_SYSCTLS[name] ?? '0';
  }

  private start(argv: string[], onLine: (line: string) => void): RunningProgram {
    if (argv[0] === 'labserver') return this.startServer(argv, onLine);
    if (argv[0] === 'labclient') return this.startClient(argv, onLine);
    const script = argv[0] === 'sh' ? (argv[2] ?? '') : '';
    if (script.includes('### sample')) return this.startSampler(script, onLine);
    const program = new FakeProgram(this, argv[0] ?? '');
    program.print(
      onLine,
      () => [],
      () => program.end(0),
    );
    return program;
  }

  /** labserver: listens on its --ports and says it is ready (or cannot listen, as the options say). */
  private startServer(argv: string[], onLine: (line: string) => void): RunningProgram {
    const error = this.session.fake.options.serverError;
    const program = new FakeProgram(this, 'labserver', () => ((this.listening = []), delete this.serverLine));
    if (error) {
      program.print(
        onLine,
        () => [JSON.stringify({ type: 'error', op: 'listen', errno: 'EADDRINUSE', message: error })],
        () => program.end(1),
      );
      return program;
    }
    this.listening = (flag(argv, '--ports') ?? '').split(',').map(Number);
    this.serverLine = onLine;
    program.print(onLine, () => [JSON.stringify({ type: 'ready', t_ms: 1, fds_at_start: 6 })]);
    return program;
  }

  /** labclient: connects min(--count, its range's ports per destination, the cap) at once, then holds them. */
  private startClient(argv: string[], onLine: (line: string) => void): RunningProgram {
    const { options } = this.session.fake;
    let made = 0;
    const program = new FakeProgram(this, 'labclient', () => this.drop(made));
    if (options.failingClients?.includes(this.plan.name)) {
      program.print(
        onLine,
        () => [JSON.stringify({ type: 'start', t_ms: 0 })],
        () => program.end(1, 'labclient: epoll_wait: Bad file descriptor (injected fault)\n'),
      );
      return program;
    }
    const asked = Number(flag(argv, '--count') ?? (this.plan as PlannedClient).asked);
    const destinations = (flag(argv, '--targets') ?? '').split(',').length;
    const [low, high] = parsePortRange(this.sysctl('net.ipv4.ip_local_port_range'));
    const room = Math.min((high - low + 1) * destinations, options.connectCap ?? Infinity);
    program.print(onLine, () => {
      made = Math.min(asked, room);
      this.established += made;
      this.session.server?.accept(made);
      const short = made < asked ? { failed: 1, errors: { EADDRNOTAVAIL: 1 } } : { failed: 0, errors: {} };
      return [
        JSON.stringify({ type: 'progress', t_ms: 5, established: made, inflight: 0, ...short }),
        JSON.stringify({ type: 'filled', t_ms: 10, established: made, ...short, bind_errors: {}, fds_at_start: 5 }),
      ];
    });
    return program;
  }

  /** The sampler's loop: a reading at once; with a stop file, a last one when it is touched, else it just ends. */
  private startSampler(script: string, onLine: (line: string) => void): RunningProgram {
    const program = new FakeProgram(this, 'sampler');
    const reading = () => [...ssSummary(this.established).split('\n'), '### sample'];
    const stopFile = /^echo \$\$ > (\S+)\.pid;/.exec(script)?.[1];
    if (stopFile) this.stopFiles.set(stopFile, () => program.print(onLine, reading, () => program.end(0)));
    program.print(onLine, reading, stopFile ? undefined : () => program.end(0));
    return program;
  }

  /** The server's side of connections clients made. */
  private accept(n: number): void {
    this.established += n;
    this.accepted += n;
    this.serverLine?.(JSON.stringify({ type: 'progress', t_ms: 10, accepted: this.accepted, open: this.established, errors: {} }));
  }

  private drop(n: number): void {
    this.established -= n;
    const server = this.session.server;
    if (server) server.established = Math.max(0, server.established - n);
  }

  private answer(argv: string[]): ExecResult {
    const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
    if (argv[0] === 'ss' && argv[1] === '-s') return ok(ssSummary(this.established));
    if (argv[0] === 'ss' && argv[1] === '-Htln') return ok(this.listeners());
    if (argv[0] === 'touch' && argv[1]) {
      const stop = this.stopFiles.get(argv[1]);
      this.stopFiles.delete(argv[1]);
      stop?.();
      return ok();
    }
    const script = argv[0] === 'sh' && argv[1] === '-c' ? (argv[2] ?? '') : undefined;
    if (script?.includes('### ss')) return ok(this.collect(script));
    if (script !== undefined) return ok();
    return { exitCode: 127, stdout: '', stderr: `fake: ${argv[0]}: not found\n` };
  }

  /** `ss -Htln` for the ports the fake labserver listens on. */
  private listeners(backlog = 4096): string {
    return this.listening.map((p) => `LISTEN 0      ${backlog}   0.0.0.0:${p} 0.0.0.0:*`).join('\n');
  }

  /** Every section of the collector script, from this host's state. */
  private collect(script: string): string {
    const e = this.established;
    const names = [...script.matchAll(/printf '%s=%s\\n' (\S+) /g)].map((m) => m[1]!);
    const backlog = Math.min((this.plan as Partial<PlannedServer>).backlog ?? 4096, Number(this.sysctl('net.core.somaxconn')));
    const sections: Record<string, string> = {
      ss: ssSummary(e),
      nstat: [
        '#kernel',
        `TcpActiveOpens ${this.plan.role === 'client' ? e : 0} 0.0`,
        `TcpPassiveOpens ${this.plan.role === 'server' ? this.accepted : 0} 0.0`,
        'TcpExtListenOverflows 0 0.0',
        'TcpExtListenDrops 0 0.0',
      ].join('\n'),
      listen: script.includes('ss -Htln') ? this.listeners(backlog) : '',
      sysctl: names.map((n) => `${n}=${this.sysctl(n)}`).join('\n'),
      nofile: String(this.plan.nofile),
      rss: String(this.programs.size ? 2048 : 0),
      meminfo: `Slab:  ${204_800 + e} kB`,
      sockstat: `sockets: used ${e + 5}\nTCP: inuse ${e} orphan 0 tw 0 alloc ${e} mem ${Math.ceil(e / 4)}`,
      softnet: '0000a1b2 00000000 00000000 00000000',
      slabinfo: `TCP ${e + 10} 2432\nsock_inode_cache ${e + 100} 832\nfilp ${e + 500} 256`,
      cgroup: '',
    };
    return Object.entries(sections)
      .map(([name, text]) => `### ${name}\n${text}\n`)
      .join('');
  }
}

/** `ss -s` as a namespace with `estab` connections prints it (shaped like test/fixtures/ss-s-*.txt). */
export function ssSummary(estab: number): string {
  return [
    `Total: ${estab + 3}`,
    `TCP:   ${estab + 1} (estab ${estab}, closed 1, orphaned 0, timewait 0)`,
    '',
    'Transport Total     IP        IPv6',
    'RAW\t  0         0         0',
    'UDP\t  1         1         0',
    `TCP\t  ${estab}         ${estab}         0`,
  ].join('\n');
}

/** How a call appears in the journal: the program's name, or what a shell script is for. */
function describe(argv: string[]): string {
  if (argv[0] !== 'sh') return argv[0] === 'labserver' || argv[0] === 'labclient' ? argv[0] : argv.join(' ');
  const script = argv[2] ?? '';
  return script.includes('### ss') ? 'collect' : script.includes('### sample') ? 'sampler' : `sh -c ${script.split(' ')[0]}`;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at < 0 ? undefined : argv[at + 1];
}
