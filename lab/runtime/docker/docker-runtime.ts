import { readFile } from 'node:fs/promises';
import { version as kernelVersion } from 'node:os';
import type Docker from 'dockerode';
import { $ } from 'zx';
import { EnvironmentError, RuntimeFailure } from '../../errors.ts';
import type { PlannedHost } from '../../plan/plan.ts';
import type { EnvironmentFingerprint, Host, LabNetwork, Log, MachineShell, RunSession, Runtime } from '../runtime.ts';
import { ensureBaseImage } from './base-image.ts';
import { removeByLabel } from './cleanup.ts';
import { connectEngine, engineIsLocal } from './engine.ts';
import { accountSocketBuffers } from './memory-cgroup.ts';
import { DockerHost } from './host.ts';
import { ensureImage, ensureProgramImage, IMAGE_OF_ROLE, type ImageRole } from './images.ts';
import { setFromOutside } from './outside.ts';
import { runLabels } from './labels.ts';
import { createLabNetwork, subnetsInUse } from './network.ts';
import { isIpv6 } from '../../subnet.ts';
import type { ConnectionTracking, RaisableLimit } from '../runtime.ts';
import { MachineTables } from './machine-tables.ts';

/** Highest open-file limit handed out. */
const NOFILE_CAP = 1 << 20;

/** Runs plans as containers on one internal bridge network of a real Docker engine. */
export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  readonly hostKind = 'container';
  readonly can = { programImages: true, ipv6: true, hostMemoryCgroups: true, natGateway: true, machineOfItsOwn: false };

  constructor(private readonly projectRoot: string) {}

  open(runId: string): DockerSession {
    return new DockerSession(this.projectRoot, runId);
  }
}

/** One engine of several (a swarm's node): its client, and the images already on it, by role and by Dockerfile. */
export interface EngineNode {
  /** The node's name, as the results give it for each host on it. */
  readonly name: string;
  /** Its engine runs on this machine: a container's pid is a process here, its cgroup a folder here. */
  readonly local: boolean;
  readonly engine: Docker;
  readonly images: ReadonlyMap<ImageRole, string>;
  readonly programImages: ReadonlyMap<string, string>;
  /** The subnet exempt from tracking in each host's namespace, once the run has one (its own engine here only). */
  readonly untracked?: () => string | undefined;
}

export class DockerSession implements RunSession {
  /** The machine-wide conntrack table is this machine's: only an engine here shares it. */
  readonly connectionTracking?: ConnectionTracking;
  private engine?: Docker;
  private log: Log = () => {};
  private readonly images = new Map<ImageRole, string>();
  private readonly programImages = new Map<string, string>();
  /** fs.file-max is this machine's too. */
  readonly fileMax?: RaisableLimit;
  private tables?: MachineTables;
  /** The engine runs on this machine, where the lab can enter its containers' namespaces and cgroups. */
  private readonly engineHere: boolean;

  constructor(
    private readonly projectRoot: string,
    readonly runId: string,
    /** An engine given rather than found, its images in place: the machine-wide tables are not this session's. */
    private readonly node?: EngineNode,
  ) {
    this.engineHere = node ? node.local : engineIsLocal();
    if (node) {
      this.engine = node.engine;
      for (const [role, image] of node.images) this.images.set(role, image);
      for (const [dockerfile, image] of node.programImages) this.programImages.set(dockerfile, image);
    } else if (engineIsLocal()) {
      this.tables = new MachineTables(runId, true);
      this.connectionTracking = this.tables.connectionTracking;
      this.fileMax = this.tables.fileMax;
    }
  }

  /** The subnet whose connections each host's own namespace leaves untracked (NOTRACK set as it starts). */
  private get untracked(): string | undefined {
    return this.tables?.untracked ?? this.node?.untracked?.();
  }

  /** Engine only: enough for cleanup and fingerprints, no image builds. */
  async connect(log: Log): Promise<void> {
    this.log = log;
    this.engine ??= await connectEngine(log);
  }

  async prepare(log: Log, programDockerfiles: readonly string[] = []): Promise<void> {
    await this.connect(log);
    const docker = this.docker;
    const base = await ensureBaseImage(docker, log);
    for (const role of ['server', 'client'] as const) {
      this.images.set(role, await ensureImage(docker, this.projectRoot, role, base, log));
    }
    for (const dockerfile of new Set(programDockerfiles)) {
      this.programImages.set(
        dockerfile,
        await ensureProgramImage(docker, dockerfile, { client: this.images.get('client')!, server: this.images.get('server')! }, log),
      );
    }
  }

  /** The images prepare() made, for engines that need them too. */
  get preparedImages(): Pick<EngineNode, 'images' | 'programImages'> {
    return { images: this.images, programImages: this.programImages };
  }

  private get docker(): Docker {
    if (!this.engine) throw new Error('DockerSession used before connect()');
    return this.engine;
  }

  async fingerprint(): Promise<EnvironmentFingerprint> {
    const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
    const images: Record<string, { name: string; id: string }> = {};
    for (const [role, name] of this.images) images[role] = { name, id: (await this.docker.getImage(name).inspect()).Id };
    return {
      runtime: 'docker',
      hostKind: 'container',
      kernel: String(info.KernelVersion),
      ...(engineIsLocal() && { kernelVersion: kernelVersion() }),
      engine: `Docker ${version.Version} (API ${version.ApiVersion})`,
      ...(this.images.size ? { images } : {}),
    };
  }

  /** Containers run on this machine's kernel when the engine is local; root reads it as the engine sees it. */
  machineShell(): MachineShell | undefined {
    if (!engineIsLocal() || process.getuid?.() !== 0) return undefined;
    return (argv) => $({ quiet: true, nothrow: true })`${argv}`.then((r) => ({ exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr }));
  }

  /**
   * Containers inherit dockerd's hard open-file limit and cannot go above it. An engine here shows its own
   * in /proc; another machine's is read inside a throwaway container there, where it applies.
   */
  async nofileCeiling(): Promise<number> {
    const hard = engineIsLocal() && !this.node ? await localEngineNofile() : await this.nofileInsideContainer();
    if (!Number.isFinite(hard) || hard <= 0) throw new EnvironmentError('cannot read the open-file limit the engine runs with');
    return Math.min(hard, NOFILE_CAP);
  }

  private async nofileInsideContainer(): Promise<number> {
    // A swarm's node has the lab's images, moved there, and maybe no way to fetch a base image.
    const image = this.images.get('client') ?? (await ensureBaseImage(this.docker, this.log));
    const container = await this.docker.createContainer({
      name: `lab-${this.runId}-nofile`,
      Image: image,
      Cmd: ['sh', '-c', 'ulimit -Hn'],
      Labels: runLabels(this.runId),
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      await container.wait();
      const text = stdoutOf(await container.logs({ stdout: true, stderr: false })).trim();
      return text === 'unlimited' ? NOFILE_CAP : Number(text);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async silentEngine(): Promise<string | undefined> {
    return this.docker.ping().then(
      () => undefined,
      () => (this.node ? `${this.node.name}'s engine` : 'the docker engine'),
    );
  }

  subnetsInUse(): Promise<string[]> {
    return subnetsInUse(this.docker);
  }

  createNetwork(subnet: string, subnet6?: string): Promise<LabNetwork> {
    return createLabNetwork(this.docker, this.runId, subnet, subnet6);
  }

  async startHosts(network: LabNetwork, hosts: PlannedHost[], lifetimeSeconds: number): Promise<Host[]> {
    return Promise.all(hosts.map((host) => this.startHost(network, host, lifetimeSeconds)));
  }

  private async startHost(network: LabNetwork, host: PlannedHost, lifetimeSeconds: number): Promise<Host> {
    const dockerfile = host.customProgram?.dockerfile;
    const image = dockerfile ? this.programImages.get(dockerfile) : this.images.get(IMAGE_OF_ROLE[host.role]);
    if (!image) throw new Error('DockerSession.startHosts before prepare()');
    const name = `lab-${this.runId}-${host.name}`;
    try {
      const container = await this.docker.createContainer({
        name,
        Image: image,
        // PID 1 ends by itself, so even a lab killed with SIGKILL leaves no container running for long.
        Cmd: ['sleep', String(lifetimeSeconds)],
        Labels: runLabels(this.runId, { 'lab.role': host.role, 'lab.host': host.name }),
        Hostname: host.name,
        HostConfig: {
          NetworkMode: network.name,
          Sysctls: host.sysctls,
          Ulimits: [{ Name: 'nofile', Soft: host.nofile, Hard: host.nofile }],
          Privileged: false,
          CapAdd: Object.keys(host.capabilities),
          Init: false,
        },
        NetworkingConfig: {
          EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: host.ip, ...(host.ip6 && { IPv6Address: host.ip6 }) } } },
        },
      });
      await container.start();
      const pid = await this.dropDefaultRoutes(container, !!network.subnet6);
      // A gateway's NAT needs its namespace to track: its connections are the ones it translates.
      if (this.untracked && !host.tracksConnections) await untrackInside(pid, this.untracked);
      await setFromOutside(container, this.engineHere ? pid : undefined, host);
      const tcpAccounted = this.engineHere ? await accountSocketBuffers(pid) : false;
      const started = new DockerHost(this.docker, container, host, { tcpAccounted }, this.node?.name);
      for (const address of host.extraAddresses) {
        // An IPv6 address is usable at once only without duplicate address detection (as Docker adds its own).
        const added = await started.exec(
          isIpv6(address) ? ['ip', '-6', 'addr', 'add', address, 'dev', 'eth0', 'nodad'] : ['ip', 'addr', 'add', address, 'dev', 'eth0'],
        );
        if (added.exitCode !== 0) throw new Error(`ip addr add ${address} failed: ${added.stderr.trim()}`);
      }
      return started;
    } catch (error) {
      throw new RuntimeFailure(`cannot start ${host.name} (${host.ip}): ${(error as Error).message.split('\n')[0]}`);
    }
  }

  /**
   * Docker gives containers a default route via the bridge even on an internal network (its iptables rules
   * then drop what leaves), and on a network with IPv6 an IPv6 one too (via the subnet's ::1). The lab removes
   * them so that nothing in a host even tries to leave the lab's subnets, from outside the container so that
   * the container stays unprivileged: nsenter into its network namespace where the lab runs as root beside
   * the engine, else a one-off privileged exec.
   */
  private async dropDefaultRoutes(container: Docker.Container, ipv6: boolean): Promise<number> {
    const { State } = await container.inspect();
    for (const family of ipv6 ? ['-4', '-6'] : ['-4']) await this.dropDefaultRoute(container, State.Pid, family);
    return State.Pid;
  }

  private async dropDefaultRoute(container: Docker.Container, pid: number, family: string): Promise<void> {
    // A remote engine's pid is no process here (or somebody else's): only an engine here is entered.
    const viaNsenter = this.engineHere
      ? await $({ quiet: true, nothrow: true })`nsenter --net=/proc/${pid}/ns/net ip ${family} route del default`
      : undefined;
    if (viaNsenter && (viaNsenter.exitCode === 0 || /No such process/.test(viaNsenter.stderr))) return;
    const exec = await container.exec({ Cmd: ['ip', family, 'route', 'del', 'default'], Privileged: true, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    // Exit 2 is "no such route": none to drop. Otherwise the route stays; the network is internal anyway.
    await exec.inspect();
  }

  async close(): Promise<string[]> {
    try {
      // Never connected: this session created nothing.
      return this.engine ? await removeByLabel(this.engine, this.runId) : [];
    } finally {
      await this.tables?.close();
    }
  }
}

/**
 * Docker's NAT rules for its DNS resolver load conntrack in every container's namespace, so each end of a
 * connection takes an entry there too: a NOTRACK rule for the run's subnet in the container's own raw
 * table, set from outside (nsenter, root beside the engine) so the container stays unprivileged. It goes
 * with the container.
 */
async function untrackInside(pid: number, subnet: string): Promise<void> {
  for (const [chain, side] of [
    ['PREROUTING', '-s'],
    ['OUTPUT', '-d'],
  ] as const) {
    const result = await $({
      quiet: true,
      nothrow: true,
    })`nsenter --net=/proc/${pid}/ns/net iptables -w 10 -t raw -A ${chain} ${side} ${subnet} -j NOTRACK`;
    if (result.exitCode !== 0) throw new Error(`NOTRACK inside the container: ${result.stderr.trim()}`);
  }
}

async function localEngineNofile(): Promise<number> {
  const pid = (await readFile('/var/run/docker.pid', 'utf8').catch(() => 'self')).trim();
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => readFile('/proc/self/limits', 'utf8'));
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return line?.[2] === 'unlimited' ? NOFILE_CAP : Number(line?.[2]);
}

/** A non-TTY container's log: frames of an 8-byte header (stream, 0, 0, 0, length) and the bytes. */
function stdoutOf(log: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= log.length; at += 8 + log.readUInt32BE(at + 4)) parts.push(log.subarray(at + 8, at + 8 + log.readUInt32BE(at + 4)));
  return Buffer.concat(parts).toString('utf8');
}
