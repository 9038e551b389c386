/**
 * A Docker Swarm of several engines on this one machine, for trying the lab's multi-host runs without
 * other machines (and for its tests): each node is a dockerd in a network namespace of its own, with its
 * own data root, exec root, pid file and socket; the namespaces are joined by veths on a bridge in a
 * switch namespace (198.19.250.0/24, from the benchmarking range, routed nowhere). Node 1 is the manager.
 * Each node carries the label lab.engine=<its socket>, which is how the lab reaches a node's own engine.
 *
 * Nothing here has a route off the machine: the namespaces have no default route and no NAT.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { $ } from 'zx';
import { sleep } from '../../abort.ts';
import { EnvironmentError } from '../../errors.ts';
import { alive } from '../../process-alive.ts';
import type { LocalCluster } from '../registry.ts';
import type { Log } from '../runtime.ts';

/** Where the harness keeps its state, sockets and logs (gone at reboot, as are the namespaces). */
export const LOCAL_SWARM_DIR = '/run/lab-swarm';
const DATA_DIR = '/var/lib/lab-swarm';
const STATE_FILE = `${LOCAL_SWARM_DIR}/swarm.json`;
// Not "lab-<id>-switch": that is a netns run's, and `lab clean` removes those.
const SWITCH_NETNS = 'labswarm-switch';
const BRIDGE = 'br-lab-swarm';
const NODE_PREFIX = '198.19.250.';
const NODE_ADDRESS_OFFSET = 10;
/** The label on every node that says how to reach its engine. */
export const ENGINE_LABEL = 'lab.engine';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const MAX_LOCAL_NODES = 8;

export interface LocalNode {
  name: string;
  netns: string;
  address: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  log: string;
}

export interface LocalSwarm {
  nodes: LocalNode[];
  /** DOCKER_HOST for the manager. */
  manager: string;
  /** Set as `down` starts: a run on it then knows its engines went away for good, their data with them. */
  goingDown?: boolean;
}

export function localNode(index: number): LocalNode {
  const name = `node${index}`;
  return {
    name,
    netns: `labswarm-${name}`,
    address: `${NODE_PREFIX}${NODE_ADDRESS_OFFSET + index}`,
    socket: `${LOCAL_SWARM_DIR}/${name}.sock`,
    dataRoot: `${DATA_DIR}/${name}`,
    execRoot: `${LOCAL_SWARM_DIR}/${name}`,
    pidFile: `${LOCAL_SWARM_DIR}/${name}.pid`,
    log: `${LOCAL_SWARM_DIR}/${name}.log`,
  };
}

/** The swarm runtime's local cluster, for `lab local-swarm`: a manager and at least one worker. */
export const localSwarm: LocalCluster = {
  nodes: { least: 2, most: MAX_LOCAL_NODES, usual: 3 },
  up: async (count, log) => `manager: DOCKER_HOST=${(await localSwarmUp(count, log)).manager}`,
  down: async (log) => void (await localSwarmDown(log)),
  status: async () => {
    const swarm = await readLocalSwarm();
    return swarm
      ? `${swarm.nodes.map((n) => `${n.name} ${n.address} ${n.socket}`).join('\n')}\nmanager: DOCKER_HOST=${swarm.manager}`
      : 'no local swarm';
  },
};

const quiet = $({ quiet: true });
const tolerant = $({ quiet: true, nothrow: true });
const engine = (node: LocalNode) => new Docker({ socketPath: node.socket });

export async function readLocalSwarm(): Promise<LocalSwarm | undefined> {
  const text = await readFile(STATE_FILE, 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as LocalSwarm) : undefined;
}

/**
 * Whether engines at these addresses were the local swarm's, and it has been taken down since (or is being
 * taken down): nothing of what ran on them is left, their data roots are deleted.
 */
export async function localSwarmTakenDown(engineAddresses: readonly string[]): Promise<boolean> {
  if (!engineAddresses.length || !engineAddresses.every((a) => a.startsWith(`unix://${LOCAL_SWARM_DIR}/`))) return false;
  const swarm = await readLocalSwarm().catch(() => undefined);
  return !swarm || !!swarm.goingDown || !engineAddresses.every((a) => swarm.nodes.some((n) => `unix://${n.socket}` === a));
}

/** Builds a swarm of `count` engines here; a swarm already up is taken down first. */
export async function localSwarmUp(count: number, log: Log): Promise<LocalSwarm> {
  if (process.getuid?.() !== 0) throw new EnvironmentError('a local swarm needs root (network namespaces and dockerd)', 'run it as root');
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd'))
    throw new EnvironmentError('dockerd is not installed', 'run `lab setup` first: it installs Docker where it may');
  // A swarm already up is taken down, and what an earlier one's dead engines left is reaped.
  await localSwarmDown(log);
  const nodes = Array.from({ length: count }, (_, i) => localNode(i + 1));
  const swarm: LocalSwarm = { nodes, manager: `unix://${nodes[0]!.socket}` };
  await mkdir(LOCAL_SWARM_DIR, { recursive: true });
  // Recorded before anything is made, so that down (or the next up) finds what a failed up left.
  await writeFile(STATE_FILE, JSON.stringify(swarm, null, 2) + '\n');
  try {
    await quiet`ip netns add ${SWITCH_NETNS}`;
    await quiet`ip -n ${SWITCH_NETNS} link add ${BRIDGE} type bridge`;
    await quiet`ip -n ${SWITCH_NETNS} link set ${BRIDGE} up`;
    for (const node of nodes) await wireNode(node);
    log(`${count} network namespaces on ${NODE_PREFIX}0/24, joined by a bridge in ${SWITCH_NETNS} (no route off the machine)`);
    await Promise.all(nodes.map((node) => startLocalEngine(node)));
    log(`${count} engines answer: ${nodes.map((n) => n.socket).join(', ')}`);
    await formSwarm(nodes);
    log(
      `swarm formed: ${nodes[0]!.name} manages, ${nodes
        .slice(1)
        .map((n) => n.name)
        .join(', ')} joined; each node labelled ${ENGINE_LABEL}=<its socket>`,
    );
    return swarm;
  } catch (error) {
    await localSwarmDown(() => {}).catch(() => undefined);
    throw error;
  }
}

async function wireNode(node: LocalNode): Promise<void> {
  const port = `ls-${node.name}`;
  await quiet`ip netns add ${node.netns}`;
  await quiet`ip link add ${port} netns ${SWITCH_NETNS} type veth peer name eth0 netns ${node.netns}`;
  await quiet`ip -n ${SWITCH_NETNS} link set ${port} master ${BRIDGE} up`;
  await quiet`ip -n ${node.netns} addr add ${node.address}/24 dev eth0`;
  await quiet`ip -n ${node.netns} link set eth0 up`;
  await quiet`ip -n ${node.netns} link set lo up`;
}

/** Starts a node's engine in its namespace (again, after it stopped: it rejoins the swarm from its data root). */
export async function startLocalEngine(node: LocalNode): Promise<void> {
  await mkdir(node.execRoot, { recursive: true });
  await mkdir(node.dataRoot, { recursive: true });
  const config = `${LOCAL_SWARM_DIR}/${node.name}.json`;
  // Its own (empty) configuration: the machine's /etc/docker/daemon.json is the main engine's.
  await writeFile(config, '{}\n');
  const out = openSync(node.log, 'a');
  // nsenter rather than `ip netns exec`, which remounts /sys and hides the cgroup mounts from dockerd.
  const args = [
    '--net=/run/netns/' + node.netns,
    'dockerd',
    '--config-file',
    config,
    '--data-root',
    node.dataRoot,
    '--exec-root',
    node.execRoot,
    '--pidfile',
    node.pidFile,
    '-H',
    `unix://${node.socket}`,
    '--bridge',
    'none',
    '--cgroup-parent',
    `lab-swarm-${node.name}`,
  ];
  spawn('nsenter', args, { detached: true, stdio: ['ignore', out, out] }).unref();
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (
      await engine(node)
        .ping()
        .then(
          () => true,
          () => false,
        )
    )
      return;
    await sleep(250);
  }
  throw new EnvironmentError(`the engine of ${node.name} did not answer within ${START_TIMEOUT_MS / 1000} s`, `see ${node.log}`);
}

async function formSwarm(nodes: LocalNode[]): Promise<void> {
  const [manager, ...workers] = nodes as [LocalNode, ...LocalNode[]];
  await engine(manager).swarmInit({ ListenAddr: `${manager.address}:2377`, AdvertiseAddr: manager.address });
  const token = ((await engine(manager).swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
  for (const worker of workers) {
    await engine(worker).swarmJoin({
      ListenAddr: `${worker.address}:2377`,
      AdvertiseAddr: worker.address,
      RemoteAddrs: [`${manager.address}:2377`],
      JoinToken: token,
    });
  }
  for (const node of nodes) {
    const id = ((await engine(node).info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    const found = await engine(manager).getNode(id).inspect();
    await engine(manager)
      .getNode(id)
      .update({
        version: found.Version.Index,
        ...found.Spec,
        Labels: { ...found.Spec.Labels, [ENGINE_LABEL]: `unix://${node.socket}`, 'lab.node': node.name },
      });
  }
}

/** Takes the local swarm down: engines stopped, their mounts, data and namespaces removed. Says what it removed. */
export async function localSwarmDown(log: Log): Promise<string[]> {
  const swarm = await readLocalSwarm();
  // Without a record, what a swarm left may still be there (a shim of a node whose engine died): reaped all the same.
  if (!swarm) {
    await reapLeftovers(new Set(), log);
    return [];
  }
  await writeFile(STATE_FILE, JSON.stringify({ ...swarm, goingDown: true }, null, 2) + '\n');
  const removed: string[] = [];
  const stopped = new Set<string>();
  for (const node of swarm.nodes) {
    if (!(await stopEngine(node))) continue;
    removed.push(`the engine of ${node.name}`);
    stopped.add(node.name);
  }
  // Before the mounts go: an engine that died (SIGKILL, OOM) left its containers running, their shims holding them.
  await reapLeftovers(stopped, log);
  for (const node of swarm.nodes) {
    await unmountUnder(node.execRoot);
    await unmountUnder(node.dataRoot);
    await rm(node.execRoot, { recursive: true, force: true });
    await rm(node.dataRoot, { recursive: true, force: true });
    for (const file of [node.socket, node.pidFile, node.log, `${LOCAL_SWARM_DIR}/${node.name}.json`]) await rm(file, { force: true });
    if ((await tolerant`ip netns del ${node.netns}`).exitCode === 0) removed.push(`namespace ${node.netns}`);
  }
  if ((await tolerant`ip netns del ${SWITCH_NETNS}`).exitCode === 0) removed.push(`namespace ${SWITCH_NETNS}`);
  await rm(STATE_FILE, { force: true });
  await rm(DATA_DIR, { recursive: true, force: true });
  await rm(LOCAL_SWARM_DIR, { recursive: true, force: true });
  log(`local swarm down: ${removed.length ? removed.join(', ') : 'nothing was running'}`);
  return removed;
}

/** SIGTERM, then SIGKILL after a while; true where an engine was running. */
async function stopEngine(node: LocalNode): Promise<boolean> {
  const pid = existsSync(node.pidFile) ? Number(readFileSync(node.pidFile, 'utf8').trim()) : NaN;
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && performance.now() < deadline) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(100);
  return true;
}

interface SwarmProcess {
  pid: number;
  ppid: number;
  /** The node it belongs to, from its paths or its cgroup. */
  node: string;
  command: string;
  /** One of a node's containers (in its --cgroup-parent), not one of the engine's own processes. */
  inContainer: boolean;
}

/** An engine's own programs: only these are known by a path of the swarm's in their command line. */
const ENGINE_PROGRAMS = /^(dockerd|containerd|containerd-shim.*|runc|docker-proxy)$/;

/**
 * The processes on this machine that belong to the local swarm: an engine's programs with a path under its
 * folders in their command line (dockerd, its containerd, a containerd-shim's -address), the processes in a
 * node's cgroup (its containers'), and what they started. Nothing else on the machine is touched (a `tail`
 * of a node's log, a shell in its namespace).
 */
async function swarmProcesses(): Promise<SwarmProcess[]> {
  const paths = new RegExp(`(?:${LOCAL_SWARM_DIR}|${DATA_DIR})/(node\\d+)\\b`);
  const cgroup = /:\/lab-swarm-(node\d+)(?:\/|$)/m;
  const all: SwarmProcess[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || !alive(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = argv[0]?.split('/').pop() ?? '';
    const byPath = ENGINE_PROGRAMS.test(command) ? argv.map((a) => paths.exec(a)?.[1]).find(Boolean) : undefined;
    const byCgroup = cgroup.exec(await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => ''))?.[1];
    all.push({ pid, ppid, node: byCgroup ?? byPath ?? '', command, inContainer: !!byCgroup });
  }
  // And their descendants, wherever those are.
  const ours = new Map(all.filter((p) => p.node).map((p) => [p.pid, p]));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      const parent = ours.get(p.ppid);
      if (!parent || ours.has(p.pid)) continue;
      ours.set(p.pid, { ...p, node: parent.node, inContainer: parent.inContainer });
      grew = true;
    }
  }
  return [...ours.values()];
}

/**
 * Kills what the local swarm's engines left running (SIGKILL: their engines are gone), and the cgroups
 * their containers were in. A node whose engine was stopped here leaves nothing; one whose engine had died
 * leaves its containerd-shims and its containers' processes, in a namespace no longer named: each such
 * node is a line saying what was reaped.
 */
async function reapLeftovers(stoppedHere: ReadonlySet<string>, log: Log): Promise<void> {
  const found = await swarmProcesses();
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  const deadline = performance.now() + STOP_TIMEOUT_MS;
  while (found.some((p) => alive(p.pid)) && performance.now() < deadline) await sleep(100);
  const byNode = new Map<string, SwarmProcess[]>();
  for (const p of found) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
  for (const [node, processes] of [...byNode].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const shims = processes.filter((p) => p.command.startsWith('containerd-shim')).length;
    const engines = processes.filter((p) => !p.inContainer && !p.command.startsWith('containerd-shim')).map((p) => `${p.command} ${p.pid}`);
    const inContainers = processes.filter((p) => p.inContainer).map((p) => p.command);
    const parts = [
      ...(engines.length ? [engines.join(', ')] : []),
      ...(shims ? [`${shims} containerd-shim${shims > 1 ? 's' : ''}`] : []),
      ...(inContainers.length
        ? [`${inContainers.length} process${inContainers.length > 1 ? 'es' : ''} of its containers (${inContainers.join(', ')})`]
        : []),
    ];
    const still = processes.filter((p) => alive(p.pid)).map((p) => p.pid);
    log(
      `${node}'s engine ${stoppedHere.has(node) ? 'left processes running as it stopped' : 'had stopped'}: reaped what it left: ${parts.join(', ')}${still.length ? ` (still there: pids ${still.join(', ')})` : ''}`,
    );
  }
  await removeNodeCgroups();
}

/** The cgroups of the nodes' containers (--cgroup-parent lab-swarm-<node>, under every hierarchy), deepest first. */
async function removeNodeCgroups(): Promise<void> {
  const roots = ['/sys/fs/cgroup', ...(await readdir('/sys/fs/cgroup').catch(() => [] as string[])).map((c) => `/sys/fs/cgroup/${c}`)];
  const dirs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    dirs.push(dir);
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) await walk(`${dir}/${entry.name}`);
  };
  for (const root of roots)
    for (const entry of await readdir(root, { withFileTypes: true }).catch(() => []))
      if (entry.isDirectory() && /^lab-swarm-node\d+$/.test(entry.name)) await walk(`${root}/${entry.name}`);
  for (const dir of dirs.sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => undefined);
}

/** Mounts an engine left under its roots (overlay layers, its netns files), deepest first. */
async function unmountUnder(root: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((at) => at === root || at.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const at of mounts) await tolerant`umount -l ${at}`;
}
