/**
 * The bench's own Docker plumbing: one internal network in 198.19.200.0/21 (never the lab's 198.18.0.0/15),
 * containers from the lab's images, programs run with `docker exec` and read line by line, and a cleanup
 * that removes every container, network and image whose lab.run label starts with this bench run's id.
 */
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { $ } from 'zx';
import { formatAddress, overlaps, parseSubnet } from '../lab/plan/subnet.ts';
import { RUN_LABEL } from '../lab/runtime/docker/labels.ts';

/** The bench's range: eight /24s, away from the lab's 198.18.0.0/15 networks. */
export const BENCH_RANGE = '198.19.200.0/21';

export function* benchSubnets(): Generator<string> {
  const { base } = parseSubnet(BENCH_RANGE);
  for (let i = 0; i < 8; i++) yield `${formatAddress(base + i * 256)}/24`;
}

export async function freeBenchSubnet(docker: Docker, taken: string[] = []): Promise<string> {
  const networks = await docker.listNetworks();
  const used = [...taken, ...networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s))];
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

  constructor(readonly argv: string[], readonly t0: number) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  onStdout(chunk: string): void {
    const at = performance.now() - this.t0;
    const parts = (this.out + chunk).split('\n');
    this.out = parts.pop() ?? '';
    for (const text of parts) {
      try {
        const json = JSON.parse(text) as ProgramLine['json'];
        if (json && typeof json === 'object') this.lines.push({ at, json });
      } catch {
        // not a JSON line
      }
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

  /** The first line matching `pick`, already here or still to come; fails on exit or timeout. */
  waitLine(pick: (json: ProgramLine['json']) => boolean, timeoutMs: number): Promise<ProgramLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((l) => pick(l.json));
        if (found) return finish(() => resolve(found));
        if (this.exitCode !== undefined) {
          const last = this.lines.at(-1)?.json;
          finish(() => reject(new Error(`${this.argv[0]} exited (${this.exitCode}) before the line awaited; last line ${JSON.stringify(last)}; stderr: ${this.stderr().slice(0, 300)}`)));
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

export class BenchDocker {
  readonly docker = new Docker();
  network?: { name: string; subnet: string };
  private hostIndex = 10;
  private seq = 0;
  /** Every program started, so that a run stopped half way can still say what it was doing. */
  readonly containers = new Set<Docker.Container>();

  constructor(readonly runId: string) {}

  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [RUN_LABEL]: this.runId, ...extra };
  }

  async createNetwork(): Promise<{ name: string; subnet: string }> {
    const subnet = await freeBenchSubnet(this.docker);
    const name = this.runId;
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
      Labels: this.labels(),
      Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
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
  async start(spec: ContainerSpec): Promise<{ container: Docker.Container; ip: string }> {
    if (!this.network) throw new Error('createNetwork() first');
    const ip = this.nextIp();
    const container = await this.docker.createContainer({
      name: `${this.runId}-${spec.role}-${++this.seq}`,
      Image: spec.image,
      Cmd: ['sleep', '900'],
      Labels: this.labels({ 'lab.role': spec.role }),
      HostConfig: {
        NetworkMode: this.network.name,
        Sysctls: spec.sysctls ?? {},
        Ulimits: [{ Name: 'nofile', Soft: spec.nofile, Hard: spec.nofile }],
        Binds: spec.binds ?? [],
        Init: false,
      },
      NetworkingConfig: { EndpointsConfig: { [this.network.name]: { IPAMConfig: { IPv4Address: ip } } } },
    });
    this.containers.add(container);
    await container.start();
    // As the lab does: nothing inside even tries to leave the subnet (the network is internal anyway).
    const { State } = await container.inspect();
    await $({ quiet: true, nothrow: true })`nsenter --net=/proc/${State.Pid}/ns/net ip route del default`;
    return { container, ip };
  }

  async remove(...containers: Docker.Container[]): Promise<void> {
    await Promise.all(
      containers.map(async (c) => {
        await c.remove({ force: true, v: true }).catch((e: { statusCode?: number }) => {
          if (e.statusCode !== 404 && e.statusCode !== 409) throw e;
        });
        this.containers.delete(c);
      }),
    );
  }

  /** Starts argv in the container; returns at once (the program runs on). */
  async run(container: Docker.Container, argv: string[], t0 = performance.now()): Promise<Program> {
    const program = new Program(argv, t0);
    const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough().setEncoding('utf8');
    const err = new PassThrough().setEncoding('utf8');
    out.on('data', (d: string) => program.onStdout(d));
    err.on('data', (d: string) => program.onStderr(d));
    this.docker.modem.demuxStream(stream, out, err);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      exec.inspect().then((i) => program.end(i.ExitCode ?? -1), () => program.end(-1));
    };
    stream.on('end', end);
    stream.on('error', end);
    stream.on('close', end);
    return program;
  }

  /** Runs argv to its end; stdout as text. */
  async exec(container: Docker.Container, argv: string[]): Promise<{ code: number; stdout: string }> {
    const chunks: string[] = [];
    const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough().setEncoding('utf8');
    out.on('data', (d: string) => chunks.push(d));
    this.docker.modem.demuxStream(stream, out, new PassThrough());
    await new Promise((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
    });
    return { code: (await exec.inspect()).ExitCode ?? -1, stdout: chunks.join('') };
  }

  /** VmRSS summed over every process named `name` in the container, in kB; and how many there were. */
  async rssKb(container: Docker.Container, name: string): Promise<{ kb: number; processes: number }> {
    const { stdout } = await this.exec(container, ['sh', '-c', `for p in $(pgrep -x ${name}); do grep VmRSS /proc/$p/status; done`]);
    const values = [...stdout.matchAll(/VmRSS:\s+(\d+)\s+kB/g)].map((m) => Number(m[1]));
    return { kb: values.reduce((a, b) => a + b, 0), processes: values.length };
  }

  /** Removes every container, network and image labelled lab.run=<this run id>[...] (or <prefix>[...]). */
  async cleanup(prefix = this.runId): Promise<string[]> {
    if (!prefix.startsWith(this.runId)) throw new Error(`${prefix} is not this bench run's`);
    const mine = (labels: Record<string, string> | undefined) => !!labels?.[RUN_LABEL]?.startsWith(prefix);
    const filters = JSON.stringify({ label: [RUN_LABEL] });
    const removed: string[] = [];
    const containers = (await this.docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels));
    await Promise.all(
      containers.map(async (c) => {
        await this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
        removed.push(`container ${c.Names[0]?.replace(/^\//, '')}`);
      }),
    );
    for (const n of (await this.docker.listNetworks({ filters })).filter((n) => mine(n.Labels))) {
      await this.docker.getNetwork(n.Id).remove().catch(() => undefined);
      removed.push(`network ${n.Name}`);
    }
    // Images last, newest first: the final image before the build stage it was made from.
    const images = (await this.docker.listImages({ all: true, filters })).filter((i) => mine(i.Labels)).sort((a, b) => b.Created - a.Created);
    for (const image of images) {
      await this.docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
      removed.push(`image ${image.RepoTags?.find((t) => t !== '<none>:<none>') ?? image.Id.slice(7, 19)}`);
    }
    return removed;
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
