/**
 * The bench's own containers, on the engine without the lab (lab/runtime/docker/plain-engine.ts): one
 * internal network in 198.19.200.0/21 (never the lab's 198.18.0.0/15), containers from the lab's images,
 * programs run with `docker exec` and read line by line, what the bench reads inside a container (memory,
 * CPU time, sockets), and a cleanup that removes every container, network and image whose lab.run label
 * starts with this bench run's id.
 */
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import { formatAddress, overlaps, parseSubnet } from '../lab/subnet.ts';
import { parseLine } from '../lab/programs/lines.ts';
import { RUN_LABEL } from '../lab/runtime/docker/labels.ts';
import { PlainEngine, type Container } from '../lab/runtime/docker/plain-engine.ts';

/** The bench's range: eight /24s, away from the lab's 198.18.0.0/15 networks. */
export const BENCH_RANGE = '198.19.200.0/21';

export function* benchSubnets(): Generator<string> {
  const { base } = parseSubnet(BENCH_RANGE);
  for (let i = 0; i < 8; i++) yield `${formatAddress(base + i * 256)}/24`;
}

export async function freeBenchSubnet(engine: PlainEngine, taken: string[] = []): Promise<string> {
  const used = [...taken, ...(await engine.subnetsInUse())];
  for (const subnet of benchSubnets()) if (!used.some((u) => overlaps(u, subnet))) return subnet;
  throw new Error(`no free /24 left in ${BENCH_RANGE}`);
}

export interface ProgramLine {
  /** ms since the program was asked to start (before exec create). */
  at: number;
  json: Record<string, unknown> & { type?: string };
}

/** A program started with docker exec: its JSON lines as they arrive, timestamped. */
export class Program {
  readonly lines: ProgramLine[] = [];
  private out = '';
  private err = '';
  private waiters = new Set<() => void>();
  exitCode?: number;
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;

  constructor(
    readonly argv: string[],
    readonly t0: number,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  onStdout(chunk: string): void {
    const at = performance.now() - this.t0;
    const parts = (this.out + chunk).split('\n');
    this.out = parts.pop() ?? '';
    for (const text of parts) {
      const json = parseLine<ProgramLine['json'] & { type: string }>(text);
      if (json) this.lines.push({ at, json });
    }
    this.waiters.forEach((w) => w());
  }

  onStderr(chunk: string): void {
    this.err += chunk;
  }

  end(code: number): void {
    this.exitCode = code;
    this.resolveExit(code);
    this.waiters.forEach((w) => w());
  }

  stderr(): string {
    return this.err.trim();
  }

  /** The first line matching `pick` (from line `from` on), already here or still to come; fails on exit or timeout. */
  waitLine(pick: (json: ProgramLine['json']) => boolean, timeoutMs: number, from = 0): Promise<ProgramLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find((l) => pick(l.json));
        if (found) return finish(() => resolve(found));
        if (this.exitCode !== undefined) {
          const last = this.lines.at(-1)?.json;
          finish(() =>
            reject(
              new Error(
                `${this.argv[0]} exited (${this.exitCode}) before the line awaited; last line ${JSON.stringify(last)}; stderr: ${this.stderr().slice(0, 300)}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.argv[0]}: no awaited line within ${timeoutMs} ms`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }
}

export interface ContainerSpec {
  image: string;
  role: string;
  sysctls?: Record<string, string>;
  nofile: number;
  binds?: string[];
}

/** A container the bench started, and its address on the bench network. */
export interface BenchHost {
  container: Container;
  ip: string;
}

export class BenchDocker {
  readonly engine = new PlainEngine();
  network?: { name: string; subnet: string };
  private hostIndex = 10;
  private seq = 0;
  /** Every program started, so that a run stopped half way can still say what it was doing. */
  readonly containers = new Set<Container>();
  /** Set once the bench is stopped (a signal): nothing more is made, so that the cleanup leaves nothing behind. */
  private stopping = false;
  /** What parts changed on the machine and undo themselves at their end (a raised conntrack ceiling), until they have. */
  private readonly undos = new Set<() => Promise<void>>();
  /** The last cleanup pass, which the next waits for. */
  private cleaning: Promise<string[]> = Promise.resolve([]);

  constructor(readonly runId: string) {}

  /** `undo`, kept to be run if the bench is stopped first; the function returned runs it once, whoever calls first. */
  undoLater(undo: () => Promise<void>): () => Promise<void> {
    let done = false;
    const once = async () => {
      if (done) return;
      done = true;
      this.undos.delete(once);
      await undo();
    };
    this.undos.add(once);
    return once;
  }

  /** On a signal: nothing more is made, what parts have not undone yet is undone, every object removed. */
  async stop(): Promise<string[]> {
    this.stopping = true;
    for (const undo of [...this.undos].reverse()) await undo().catch(() => undefined); // the last change first
    return this.cleanup();
  }

  private refuseWhenStopping(): void {
    if (this.stopping) throw new Error(`the bench ${this.runId} is stopping`);
  }

  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [RUN_LABEL]: this.runId, ...extra };
  }

  async createNetwork(): Promise<{ name: string; subnet: string }> {
    this.refuseWhenStopping();
    const subnet = await freeBenchSubnet(this.engine);
    const name = this.runId;
    await this.engine.createNetwork({
      name,
      subnet,
      labels: this.labels(),
      checkDuplicate: true,
      options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
    });
    this.network = { name, subnet };
    return this.network;
  }

  nextIp(): string {
    if (!this.network) throw new Error('createNetwork() first');
    if (this.hostIndex > 250) throw new Error('the bench network ran out of addresses');
    return formatAddress(parseSubnet(this.network.subnet).base + this.hostIndex++);
  }

  /** A container that ends by itself (sleep), on the bench network, without a default route. */
  async start(spec: ContainerSpec): Promise<BenchHost> {
    this.refuseWhenStopping();
    if (!this.network) throw new Error('createNetwork() first');
    const ip = this.nextIp();
    const container = await this.engine.startContainer({
      name: `${this.runId}-${spec.role}-${++this.seq}`,
      image: spec.image,
      cmd: ['sleep', '900'],
      labels: this.labels({ 'lab.role': spec.role }),
      network: this.network.name,
      ip,
      sysctls: spec.sysctls ?? {},
      nofile: spec.nofile,
      binds: spec.binds ?? [],
      init: false,
    });
    this.containers.add(container);
    // As the lab does: nothing inside even tries to leave the subnet (the network is internal anyway).
    const pid = await this.engine.pid(container);
    await $({ quiet: true, nothrow: true })`nsenter --net=/proc/${pid}/ns/net ip route del default`;
    return { container, ip };
  }

  async remove(...containers: Container[]): Promise<void> {
    await Promise.all(
      containers.map(async (c) => {
        await this.engine.removeContainer(c, [404, 409]);
        this.containers.delete(c);
      }),
    );
  }

  /** Starts argv in the container; returns at once (the program runs on). */
  async run(container: Container, argv: string[], t0 = performance.now()): Promise<Program> {
    this.refuseWhenStopping();
    const program = new Program(argv, t0);
    await this.engine.run(container, argv, {
      stdout: (d) => program.onStdout(d),
      stderr: (d) => program.onStderr(d),
      exited: (code) => program.end(code),
    });
    return program;
  }

  /** Runs argv to its end; stdout as text. */
  exec(container: Container, argv: string[]): Promise<{ code: number; stdout: string }> {
    return this.engine.exec(container, argv);
  }

  /** VmRSS summed over every process named `name` in the container, in kB; and how many there were. */
  async rssKb(container: Container, name: string): Promise<{ kb: number; processes: number }> {
    const { stdout } = await this.exec(container, ['sh', '-c', `for p in $(pgrep -x ${name}); do grep VmRSS /proc/$p/status; done`]);
    const values = [...stdout.matchAll(/VmRSS:\s+(\d+)\s+kB/g)].map((m) => Number(m[1]));
    return { kb: values.reduce((a, b) => a + b, 0), processes: values.length };
  }

  /** CPU seconds (user, system) the processes named `name` in these containers have used so far, from /proc. */
  async cpuSeconds(containers: Container[], name: string): Promise<{ user: number; system: number }> {
    const TICK = 100; // USER_HZ
    const outs = await Promise.all(containers.map((c) => this.exec(c, ['sh', '-c', `for p in $(pgrep -x ${name}); do cat /proc/$p/stat; done`])));
    let user = 0;
    let system = 0;
    for (const line of outs.flatMap((o) => o.stdout.split('\n')).filter(Boolean)) {
      // After the ")" closing the command name: state is field 3, utime 14, stime 15.
      const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
      // An earlier fill's killed workers linger as zombies (the containers' PID 1 is sleep, which reaps none).
      if (fields[0] === 'Z') continue;
      user += Number(fields[11]) / TICK;
      system += Number(fields[12]) / TICK;
    }
    return { user: Math.round(user * 100) / 100, system: Math.round(system * 100) / 100 };
  }

  /** The container's own TCP sockets: established ones, and any other but listeners (TIME_WAIT, FIN_WAIT, ...). */
  async sockets(container: Container): Promise<{ estab: number; notListening: number }> {
    // Not ss -s's "orphaned": that one is host-wide, so another namespace's closing sockets would count.
    const { stdout } = await this.exec(container, ['sh', '-c', 'ss -tanH state established | wc -l; ss -tanH exclude listening | wc -l']);
    const [estab, notListening] = stdout.trim().split(/\s+/).map(Number);
    return { estab: estab ?? -1, notListening: notListening ?? -1 };
  }

  /** Waits until the container holds no TCP socket but its listeners; says what was left if it does not. */
  async untilNoSockets(what: string, container: Container, timeoutMs: number): Promise<void> {
    let left = -1;
    await until(what, async () => (left = (await this.sockets(container)).notListening) === 0, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}: ${left} socket(s) left`);
    });
  }

  /** Removes every container, network and image labelled lab.run=<this run id>[...] (or <prefix>[...]). */
  async cleanup(prefix = this.runId): Promise<string[]> {
    if (!prefix.startsWith(this.runId)) throw new Error(`${prefix} is not this bench run's`);
    // One pass after the other: a signal's cleanup and the run's own may come at once, and two passes over the
    // same objects at the same time left a container (and so its network) behind.
    const pass = this.cleaning.then(() => this.engine.removeLabelled(prefix));
    this.cleaning = pass.catch(() => []);
    return pass;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Checks every 250 ms until `check` holds; fails, naming `what`, after timeoutMs. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}
