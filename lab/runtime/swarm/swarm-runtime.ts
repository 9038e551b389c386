/**
 * The scenarios across the nodes of a Docker Swarm: the manager (DOCKER_HOST) holds the run's internal,
 * attachable overlay network; each host is a plain container (a service cannot have a static IP) started
 * through its own node's engine, which the lab reaches at the address in the node's lab.engine label. The
 * server goes on the node labelled lab.role=server (else the first), the clients round-robin over the nodes
 * labelled lab.role=client (else over the others). Images are built once, on this machine's engine, and
 * moved to every node that lacks them (checked by image id).
 */
import { readdir, readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { $ } from 'zx';
import { EnvironmentError, RuntimeFailure } from '../../errors.ts';
import type { PlannedHost } from '../../plan/plan.ts';
import type {
  ConnectionTracking,
  EnvironmentFingerprint,
  Host,
  LabNetwork,
  Log,
  MachineShell,
  RaisableLimit,
  RunSession,
  Runtime,
} from '../runtime.ts';
import { MachineTables } from '../docker/machine-tables.ts';
import { removeByLabel } from '../docker/cleanup.ts';
import { DockerSession } from '../docker/docker-runtime.ts';
import { runFilter, runLabels } from '../docker/labels.ts';
import { sleep } from '../../abort.ts';
import { subnetsInUse } from '../docker/network.ts';
import { SubnetTaken } from '../runtime.ts';
import { FIRST_CLIENT, formatAddress, overlaps, parseSubnet } from '../../subnet.ts';
import { ENGINE_LABEL, localSwarmTakenDown } from './local-swarm.ts';
import { sshEngine } from './ssh-engine.ts';
import { ensureBaseImage } from '../docker/base-image.ts';

const ROLE_LABEL = 'lab.role';
const SWARM_TAKEN_DOWN = 'the local swarm was taken down during the run: nothing of it is left to clean';
const NODE_LABEL = 'lab.node';
/** Where the images are built: this machine's own engine, whatever DOCKER_HOST says. */
const BUILD_ENGINE = '/var/run/docker.sock';
/** An anchor ends by itself after this long, whatever happens to the lab (lab clean removes it before). */
const ANCHOR_LIFETIME_SECONDS = 24 * 3600;
const NETWORK_GONE_MS = 30_000;
/** How long a manager may take to allocate an overlay's subnet (it takes well under a second when it is free). */
const ALLOCATION_MS = 20_000;
/** Attempts at starting an anchor when the manager is slow to attach its node to the overlay. */
const ATTACH_ATTEMPTS = 3;

export interface SwarmNode {
  name: string;
  engineAddress: string;
  role?: string;
  engine: Docker;
}

/** A Docker client for the address in a node's lab.engine label. */
export function engineAt(address: string, node: string): Docker {
  const url = new URL(address);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  if (url.protocol === 'tcp:' || url.protocol === 'http:')
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  if (url.protocol === 'ssh:') return sshEngine(url, node);
  throw new EnvironmentError(
    `node ${node}: ${ENGINE_LABEL}=${address} is not an address the lab can reach (unix://, ssh:// or tcp://)`,
    `label the node with its engine's address: docker node update --label-add ${ENGINE_LABEL}=ssh://<user>@<host> ${node}`,
  );
}

/** Where each host goes: the server on its node, the clients round-robin over theirs. Says which way. */
export function placeHosts<N extends { name: string; role?: string }>(
  nodes: readonly N[],
  hosts: readonly PlannedHost[],
): { placed: Map<PlannedHost, N>; how: string } {
  const labelled = nodes.some((n) => n.role === 'server' || n.role === 'client');
  const server = nodes.find((n) => n.role === 'server') ?? nodes[0]!;
  const named = nodes.filter((n) => n.role === 'client');
  const others = nodes.filter((n) => n !== server);
  const clientNodes = named.length ? named : others.length ? others : [server];
  const placed = new Map<PlannedHost, N>();
  let next = 0;
  for (const host of hosts) placed.set(host, host.role === 'server' ? server : clientNodes[next++ % clientNodes.length]!);
  const how = labelled ? `by the nodes' ${ROLE_LABEL} labels` : 'round-robin (no node labelled lab.role=server or lab.role=client)';
  return { placed, how: `server on ${server.name}, clients on ${clientNodes.map((n) => n.name).join(', ')}, ${how}` };
}

export class SwarmRuntime implements Runtime {
  readonly name = 'swarm';
  readonly hostKind = 'container';
  // An overlay across engines with IPv6 has not been tried here: cases over IPv6 are refused before anything starts.
  readonly can = { programImages: true, ipv6: false, hostMemoryCgroups: true, natGateway: false, machineOfItsOwn: false };

  constructor(private readonly projectRoot: string) {}

  open(runId: string): SwarmSession {
    return new SwarmSession(this.projectRoot, runId);
  }
}

export class SwarmSession implements RunSession {
  connectionTracking?: ConnectionTracking;
  fileMax?: RaisableLimit;
  /** This machine's tables, where every node runs here (the local swarm): the hosts' kernel is its. */
  private tables?: MachineTables;
  private manager?: Docker;
  private nodes: SwarmNode[] = [];
  private readonly sessions = new Map<string, DockerSession>();
  private builder?: DockerSession;
  private log: Log = () => {};
  private ceilings?: Promise<number[]>;
  private readonly buildEngine = new Docker({ socketPath: BUILD_ENGINE });

  constructor(
    private readonly projectRoot: string,
    readonly runId: string,
  ) {}

  async connect(log: Log): Promise<void> {
    // The run's own log, given first: prepare() passes the images step's.
    if (this.manager) return;
    this.log = log;
    const manager = new Docker();
    const info = (await manager.info().catch((error: Error) => {
      throw new EnvironmentError(
        `no Docker engine answers at DOCKER_HOST (${process.env.DOCKER_HOST ?? 'unset'}): ${error.message}`,
        'point DOCKER_HOST at a swarm manager (lab local-swarm up makes one here)',
      );
    })) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
      throw new EnvironmentError(
        `the engine at DOCKER_HOST (${process.env.DOCKER_HOST ?? 'unset'}) is not a swarm manager`,
        'point DOCKER_HOST at a manager of the swarm (lab local-swarm up makes one here)',
      );
    }
    this.nodes = await swarmNodes(manager, (out) => log(`swarm: ${nodesLeftOut(out)} not ready: the run goes on without it`));
    this.manager = manager;
    if (this.nodes.length && this.nodes.every(isHere) && process.getuid?.() === 0) {
      this.tables = new MachineTables(this.runId, false);
      this.connectionTracking = this.tables.connectionTracking;
      this.fileMax = this.tables.fileMax;
    }
    log(`swarm: ${this.nodes.map((n) => `${n.name} (${n.engineAddress})`).join(', ')}`);
  }

  async prepare(log: Log, programDockerfiles: readonly string[] = []): Promise<void> {
    await this.connect(log);
    const buildEngine = this.buildEngine;
    this.builder ??= new DockerSession(this.projectRoot, this.runId, {
      name: 'build engine',
      local: true,
      engine: buildEngine,
      images: new Map(),
      programImages: new Map(),
    });
    await this.builder.prepare(log, programDockerfiles);
    const built = this.builder.preparedImages;
    const names = [...built.images.values(), ...built.programImages.values()];
    for (const node of this.nodes) {
      for (const name of names) await moveImage(buildEngine, node, name, log);
      this.sessions.set(
        node.name,
        new DockerSession(this.projectRoot, this.runId, {
          name: node.name,
          local: isHere(node),
          engine: node.engine,
          ...built,
          untracked: () => this.tables?.untracked,
        }),
      );
    }
  }

  private session(node: SwarmNode): DockerSession {
    const session = this.sessions.get(node.name);
    if (!session) throw new Error('SwarmSession used before prepare()');
    return session;
  }

  /** The first node's, as the run's; and each node's own: kernel, engine, open-file ceiling. */
  async fingerprint(): Promise<EnvironmentFingerprint> {
    const first = this.nodes[0];
    const own = first && this.sessions.get(first.name);
    const base = own
      ? await own.fingerprint()
      : {
          runtime: 'swarm',
          hostKind: 'container',
          kernel: String(((await this.manager!.info()) as { KernelVersion: string }).KernelVersion),
          engine: 'Docker Swarm',
        };
    const ceilings = await this.nodeCeilings();
    const nodes = await Promise.all(
      this.nodes.map(async (node, i) => {
        const info = (await node.engine.info()) as { KernelVersion: string; ServerVersion: string };
        return {
          name: node.name,
          address: node.engineAddress,
          kernel: info.KernelVersion,
          engine: `Docker ${info.ServerVersion}`,
          nofileCeiling: ceilings[i]!,
        };
      }),
    );
    return { ...base, runtime: 'swarm', nodes };
  }

  /** Where every node runs here and the lab is root (it holds this machine's tables): its kernel is theirs. */
  machineShell(): MachineShell | undefined {
    if (!this.tables) return undefined;
    return (argv) => $({ quiet: true, nothrow: true })`${argv}`.then((r) => ({ exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr }));
  }

  /**
   * The first engine that does not answer: the manager's, or a node's, named with its address. Where the
   * local swarm was taken down under the run, a RuntimeFailure that says so: there is no engine to start
   * again, and nothing left to clean.
   */
  async silentEngine(): Promise<string | undefined> {
    const engines: Array<[string, Docker | undefined]> = [
      [`the swarm manager's engine (DOCKER_HOST ${process.env.DOCKER_HOST ?? 'unset'})`, this.manager],
      ...this.nodes.map((n): [string, Docker] => [`${n.name}'s engine (${n.engineAddress})`, n.engine]),
    ];
    const answers = await Promise.all(
      engines.map(([, d]) =>
        d
          ? d.ping().then(
              () => true,
              () => false,
            )
          : true,
      ),
    );
    const silent = engines.find((_, i) => !answers[i])?.[0];
    if (silent && (await this.swarmTakenDown())) throw new RuntimeFailure(SWARM_TAKEN_DOWN);
    return silent;
  }

  /** The local swarm (`lab local-swarm`) this run's nodes were, taken down during the run. */
  private swarmTakenDown(): Promise<boolean> {
    return localSwarmTakenDown(this.nodes.map((n) => n.engineAddress));
  }

  /** The lowest of the nodes' (containers inherit their dockerd's hard limit): asked before any image is there. */
  async nofileCeiling(): Promise<number> {
    return Math.min(...(await this.nodeCeilings()));
  }

  /**
   * Read once. A node elsewhere is asked through a container, before the lab's images are there: of the
   * base image, moved from here (a node may have no way to fetch one).
   */
  private nodeCeilings(): Promise<number[]> {
    this.ceilings ??= Promise.all(
      this.nodes.map(async (n) => {
        if (isHere(n)) return dockerdNofile(new URL(n.engineAddress).pathname);
        await moveImage(this.buildEngine, n, await ensureBaseImage(this.buildEngine, this.log), this.log);
        return new DockerSession(this.projectRoot, this.runId, {
          name: n.name,
          local: false,
          engine: n.engine,
          images: new Map(),
          programImages: new Map(),
        }).nofileCeiling();
      }),
    );
    return this.ceilings;
  }

  /** The plan's clients stop below the swarm's own addresses (dynamicRange). */
  clientRoom(subnet: string): { clients: number; why: string } {
    const { base } = parseSubnet(subnet);
    const first = parseSubnet(dynamicRange(subnet)).base;
    return { clients: first - base - FIRST_CLIENT, why: `the swarm keeps ${dynamicRange(subnet)} for its own addresses` };
  }

  async subnetsInUse(): Promise<string[]> {
    const all = await Promise.all([this.manager!, ...this.nodes.map((n) => n.engine)].map((d) => subnetsInUse(d)));
    return [...new Set(all.flat())];
  }

  async createNetwork(subnet: string): Promise<LabNetwork> {
    const name = `lab-${this.runId}`;
    let network: Docker.Network;
    try {
      network = await this.manager!.createNetwork({
        Name: name,
        Driver: 'overlay',
        Attachable: true,
        Internal: true,
        CheckDuplicate: true,
        // The swarm gives every node on an overlay an address of its own (its load balancer's), taken
        // dynamically from the bottom: where the plan puts the server and the clients. Dynamic ones go on top.
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, IPRange: dynamicRange(subnet) }] },
        Labels: runLabels(this.runId),
      });
    } catch (error) {
      const message = (error as Error).message;
      if (/overlap|Pool/i.test(message)) throw new SubnetTaken(subnet);
      throw new RuntimeFailure(`cannot create overlay network ${name} (${subnet}): ${message}`);
    }
    await this.untilAllocated(network, name, subnet);
    await Promise.all(this.nodes.map((node) => this.anchor(node, name)));
    return { name, subnet };
  }

  /**
   * A manager accepts an overlay at once and allocates its subnet afterwards. Two runs that chose one subnet
   * at the same moment (neither's overlay there yet) both have theirs accepted; the second is never allocated
   * while the first lasts ("Pool overlaps" in the manager's log), and a container attaching to it fails after
   * 20 s ("attaching to network failed ... context deadline exceeded"). So: wait for the allocation; where an
   * overlay of the swarm holds the subnet meanwhile, remove this one and choose again (SubnetTaken).
   */
  private async untilAllocated(network: Docker.Network, name: string, subnet: string): Promise<void> {
    const deadline = performance.now() + ALLOCATION_MS;
    for (;;) {
      const info = (await network.inspect()) as { Driver?: string; IPAM?: { Config?: Array<{ Subnet?: string }> | null } };
      if (info.Driver && info.IPAM?.Config?.length) return;
      const holder = (await this.manager!.listNetworks()).find(
        (n) => n.Id !== network.id && n.Scope === 'swarm' && (n.IPAM?.Config ?? []).some((c) => !!c.Subnet && overlaps(c.Subnet, subnet)),
      );
      if (holder || performance.now() > deadline) {
        await network.remove().catch(() => undefined);
        if (holder) {
          this.log(`swarm: ${subnet} went to overlay ${holder.Name} meanwhile: choosing another subnet`);
          throw new SubnetTaken(subnet);
        }
        throw new RuntimeFailure(
          `the swarm manager did not allocate overlay network ${name} (${subnet}) within ${ALLOCATION_MS / 1000} s`,
          'its engine\'s log says why ("Failed allocation")',
        );
      }
      await sleep(250);
    }
  }

  /**
   * A container that holds the overlay on its node for the whole run. A worker whose last container on an
   * attachable overlay goes leaves the network, and rejoining it for the next case failed here ("attaching
   * to network failed ... context deadline exceeded", for minutes) or lost the first packets. Its address
   * is a dynamic one, at the top of the subnet.
   */
  private async anchor(node: SwarmNode, network: string): Promise<void> {
    const image = this.builder!.preparedImages.images.get('client')!;
    for (let attempt = 1; ; attempt++) {
      try {
        const container = await node.engine.createContainer({
          name: `lab-${this.runId}-anchor-${node.name}`,
          Image: image,
          Cmd: ['sleep', String(ANCHOR_LIFETIME_SECONDS)],
          Labels: runLabels(this.runId, { 'lab.role': 'anchor' }),
          HostConfig: { NetworkMode: network },
        });
        await container.start().catch(async (error: Error) => {
          await container.remove({ force: true }).catch(() => undefined);
          throw error;
        });
        return;
      } catch (error) {
        const message = ((error as Error).message ?? String(error)).replace(/\s+/g, ' ').trim();
        // The manager did not attach the node in time (busy): bounded, with growing pauses.
        if (/attaching to network failed/.test(message) && attempt < ATTACH_ATTEMPTS) {
          this.log(`swarm: ${node.name} was not attached to ${network} in time: trying again`);
          await sleep(2000 * attempt);
          continue;
        }
        throw new RuntimeFailure(`cannot attach ${node.name} to overlay network ${network}: ${message}`, "the manager's log says why");
      }
    }
  }

  async startHosts(network: LabNetwork, hosts: PlannedHost[], lifetimeSeconds: number): Promise<Host[]> {
    const { placed, how } = placeHosts(this.nodes, hosts);
    this.log(`placement: ${how}`);
    const started = await Promise.all(
      this.nodes.map(async (node) => {
        const mine = hosts.filter((h) => placed.get(h) === node);
        return mine.length ? this.session(node).startHosts(network, mine, lifetimeSeconds) : [];
      }),
    );
    const byName = new Map(started.flat().map((h) => [h.plan.name, h]));
    return hosts.map((h) => byName.get(h.name)!);
  }

  async close(): Promise<string[]> {
    if (!this.manager) return [];
    // Its engines are stopped and their data deleted: nothing of the run is left, nor anything to advise.
    if (await this.swarmTakenDown()) {
      await this.tables?.close();
      return [];
    }
    const removed: string[] = [];
    const failures: Error[] = [];
    for (const node of this.nodes) {
      await removeByLabel(node.engine, this.runId, undefined, 'containers').then(
        (gone) => removed.push(...gone.map((g) => `${g} on ${node.name}`)),
        async (error: Error) => {
          const silent = !(await node.engine.ping().then(
            () => true,
            () => false,
          ));
          failures.push(
            silent
              ? new RuntimeFailure(
                  `${node.name}'s engine (${node.engineAddress}) does not answer: the run's containers there are left`,
                  `once it answers again, \`lab clean --run ${this.runId}\` removes them`,
                )
              : error,
          );
        },
      );
    }
    // The overlay is the manager's, once no node's container holds it.
    await removeByLabel(this.manager, this.runId).then(
      (gone) => removed.push(...gone),
      (error: Error) => failures.push(error),
    );
    await this.tables?.close();
    if (failures.length) throw failures[0];
    await networksGoneFromNodes(this.nodes, this.runId);
    return removed;
  }
}

/** A node whose engine listens on a socket of this machine runs here, on its kernel. */
function isHere(node: SwarmNode): boolean {
  return node.engineAddress.startsWith('unix://');
}

/** A node the swarm's manager lists but the lab does not use: its name, and why ("drain", "down", ...). */
export interface NodeLeftOut {
  name: string;
  why: string;
}

/** "node3 (drain), node4 (down)". */
export function nodesLeftOut(out: readonly NodeLeftOut[]): string {
  return out.map((n) => `${n.name} (${n.why})`).join(', ');
}

/** The swarm's ready nodes, each with its engine (from its lab.engine label); the others are named in `left`. */
export async function swarmNodes(manager: Docker, left: (out: NodeLeftOut[]) => void = () => {}): Promise<SwarmNode[]> {
  const listed = (await manager.listNodes()) as Array<{
    Description?: { Hostname?: string };
    Status: { State: string };
    Spec: { Availability?: string; Labels?: Record<string, string> };
    ID: string;
  }>;
  // Engines on one machine share its hostname: the node's lab.node label names it where there is one.
  const nameOf = (n: (typeof listed)[number]) => n.Spec.Labels?.[NODE_LABEL] ?? `${n.Description?.Hostname ?? 'node'}-${n.ID.slice(0, 6)}`;
  const usable = (n: (typeof listed)[number]) => n.Status.State === 'ready' && n.Spec.Availability !== 'drain';
  const out = listed
    .filter((n) => !usable(n))
    .map((n) => ({ name: nameOf(n), why: n.Status.State === 'ready' ? n.Spec.Availability! : n.Status.State }));
  if (out.length) left(out);
  const nodes = listed.filter(usable).map((n) => {
    const name = nameOf(n);
    const address = n.Spec.Labels?.[ENGINE_LABEL];
    if (!address)
      throw new EnvironmentError(
        `node ${name} has no ${ENGINE_LABEL} label: the lab cannot reach its engine`,
        `docker node update --label-add ${ENGINE_LABEL}=<its engine, unix://, ssh:// or tcp://> ${n.ID.slice(0, 12)}`,
      );
    return { name, engineAddress: address, role: n.Spec.Labels?.[ROLE_LABEL], engine: engineAt(address, name) };
  });
  // Stable order, whatever the addresses: by name (node2 before node10).
  return nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** A node without the image (by id) gets it from the build engine, through the engine API (save | load). */
async function moveImage(from: Docker, node: SwarmNode, name: string, log: Log): Promise<void> {
  const wanted = (await from.getImage(name).inspect()).Id;
  const there = await node.engine
    .getImage(name)
    .inspect()
    .then(
      (i) => i.Id,
      () => undefined,
    );
  if (there === wanted) return;
  const started = performance.now();
  const stream = await from.getImage(name).get();
  const loading = await node.engine.loadImage(stream);
  await new Promise<void>((resolve, reject) =>
    node.engine.modem.followProgress(loading, (error: Error | null) => (error ? reject(error) : resolve())),
  );
  const moved = await node.engine
    .getImage(name)
    .inspect()
    .then(
      (i) => i.Id,
      () => undefined,
    );
  if (moved !== wanted) throw new RuntimeFailure(`image ${name} on ${node.name} has id ${moved ?? 'none'} after loading, not ${wanted}`);
  log(`moved image ${name} to ${node.name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/** The hard open-file limit of the dockerd on this machine that listens on `socket` (read in /proc). */
async function dockerdNofile(socket: string): Promise<number> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('dockerd') || !argv.includes(`unix://${socket}`)) continue;
    const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '');
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
    if (hard) return hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard);
  }
  throw new EnvironmentError(`no dockerd on this machine listens on ${socket}: cannot read its open-file limit`);
}

/** The top sixteenth of a subnet (a /28 of a /24: .240-.255), for the addresses the swarm hands out itself. */
export function dynamicRange(subnet: string): string {
  const { base, prefix } = parseSubnet(subnet);
  const size = 2 ** (32 - prefix);
  return `${formatAddress(base + size - size / 16)}/${prefix + 4}`;
}

/** A worker lists the overlay a few seconds after the manager removed it: removed means gone from every node. */
export async function networksGoneFromNodes(nodes: readonly SwarmNode[], runId: string | undefined): Promise<void> {
  const filters = JSON.stringify(runFilter(runId));
  const deadline = performance.now() + NETWORK_GONE_MS;
  for (const node of nodes) {
    while ((await node.engine.listNetworks({ filters }).catch(() => [])).length) {
      if (performance.now() > deadline)
        throw new RuntimeFailure(
          `a run's network is still listed on ${node.name} ${NETWORK_GONE_MS / 1000} s after the manager removed it`,
          `\`lab clean${runId ? ` --run ${runId}` : ''}\` removes what is left`,
        );
      await sleep(250);
    }
  }
}
