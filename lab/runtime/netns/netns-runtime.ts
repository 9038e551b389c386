/**
 * Runs plans in plain network namespaces on a Machine: one namespace per host, each with a veth whose other
 * end hangs on a bridge in the run's own switch namespace. Nothing of a run touches the machine's own
 * network namespace, so there is no route out of the lab at all. Needs root and iproute2 on the machine.
 */
import { EnvironmentError } from '../../errors.ts';
import type { PlannedHost } from '../../plan/plan.ts';
import { isIpv6, parseSubnet } from '../../subnet.ts';
import type { EnvironmentFingerprint, Host, LabNetwork, Log, MachineShell, RunSession, Runtime, RuntimeAbilities } from '../runtime.ts';
import { NetnsHost, removeNamespaces } from './host.ts';
import { execOn, type Machine } from './machine.ts';
import { labNamespaces, namespaceName, runOfNamespace, SWITCH } from './names.ts';
import { within } from '../../abort.ts';

const BRIDGE = 'br0';
/** Highest open-file limit handed out, as on the Docker runtime. */
const NOFILE_CAP = 1 << 20;
const ANSWER_TIMEOUT_MS = 10_000;

export interface NetnsRuntimeOptions {
  name: string;
  /** Gets the run's machine ready (building what it needs; booting a VM for the run), saying what it does. */
  startMachine(log: Log, runId: string): Promise<Machine>;
  /** What runs the namespaces, for the environment fingerprint. */
  engine(machine: Machine): Promise<string>;
  /** startMachine boots a machine for each run alone (a VM), not this shared one. */
  machineOfItsOwn?: boolean;
}

/** Namespaces on a machine: this one, or a VM booted for each run. */
export class NetnsRuntime implements Runtime {
  readonly name: string;
  readonly hostKind = 'namespace';
  readonly can: RuntimeAbilities;

  constructor(private readonly options: NetnsRuntimeOptions) {
    this.name = options.name;
    this.can = { programImages: false, ipv6: true, hostMemoryCgroups: false, natGateway: false, machineOfItsOwn: options.machineOfItsOwn ?? false };
  }

  open(runId: string): RunSession {
    return new NetnsSession(this.options, runId);
  }
}

class NetnsSession implements RunSession {
  private machine?: Machine;

  constructor(
    private readonly options: NetnsRuntimeOptions,
    readonly runId: string,
  ) {}

  async connect(log: Log): Promise<void> {
    this.machine ??= await this.options.startMachine(log, this.runId);
  }

  async prepare(log: Log, programDockerfiles: readonly string[] = []): Promise<void> {
    if (programDockerfiles.length) {
      throw new EnvironmentError(
        `a program built from a Dockerfile (${programDockerfiles[0]}) needs the docker runtime`,
        'run this scenario without --runtime/--kernel, or pick its other cases with --case',
      );
    }
    await this.connect(log);
  }

  private get on(): Machine {
    if (!this.machine) throw new Error(`${this.options.name} runtime used before connect()`);
    return this.machine;
  }

  private async sh(script: string): Promise<string> {
    const result = await execOn(this.on, ['sh', '-c', script]);
    if (result.exitCode !== 0) throw new Error(result.stderr.trim().split('\n').at(-1) || `exit ${result.exitCode}`);
    return result.stdout;
  }

  async fingerprint(): Promise<EnvironmentFingerprint> {
    const [kernel = '', kernelVersion = '', cpus = ''] = (await this.sh('uname -r; uname -v; grep -c ^processor /proc/cpuinfo')).trim().split('\n');
    return {
      runtime: this.options.name,
      hostKind: 'namespace',
      kernel,
      kernelVersion,
      engine: await this.options.engine(this.on),
      ...(this.options.machineOfItsOwn && Number(cpus) > 0 && { cpus: Number(cpus) }),
    };
  }

  machineShell(): MachineShell | undefined {
    const machine = this.machine;
    return machine && ((argv) => execOn(machine, argv));
  }

  /** Root may raise its limit up to fs.nr_open where it holds CAP_SYS_RESOURCE; otherwise its hard limit stays. */
  async nofileCeiling(): Promise<number> {
    const output = await this.sh('n=$(cat /proc/sys/fs/nr_open); if (ulimit -n "$n") 2>/dev/null; then echo "$n"; else ulimit -Hn; fi');
    const ceiling = output.trim() === 'unlimited' ? NOFILE_CAP : Number(output.trim());
    if (!Number.isFinite(ceiling) || ceiling <= 0) throw new EnvironmentError(`cannot read the open-file limit on ${this.on.description}`);
    return Math.min(ceiling, NOFILE_CAP);
  }

  async silentEngine(): Promise<string | undefined> {
    const reply = await within(
      execOn(this.on, ['true']).then(
        (r) => r.exitCode === 0,
        () => false,
      ),
      ANSWER_TIMEOUT_MS,
    );
    return reply === true ? undefined : 'the netns engine';
  }

  /** Each run has a switch of its own, so no subnet is ever taken by another. */
  async subnetsInUse(): Promise<string[]> {
    return [];
  }

  async createNetwork(subnet: string, subnet6?: string): Promise<LabNetwork> {
    const name = namespaceName(this.runId, SWITCH);
    await this.sh(`ip netns add ${name} && ip -n ${name} link add ${BRIDGE} type bridge && ip -n ${name} link set ${BRIDGE} up`);
    // The bridge carries IPv6 as it carries IPv4: each host's addresses are all the network needs.
    return { name, subnet, ...(subnet6 && { subnet6 }) };
  }

  async startHosts(network: LabNetwork, hosts: PlannedHost[]): Promise<Host[]> {
    const prefix = parseSubnet(network.subnet).prefix;
    const script = ['set -e', ...hosts.flatMap((host) => hostSetup(namespaceName(this.runId, host.name), network.name, host, prefix))].join('\n');
    try {
      await this.sh(script);
    } catch (error) {
      throw new EnvironmentError(`cannot start the hosts' namespaces on ${this.on.description}: ${(error as Error).message}`);
    }
    return hosts.map((host) => new NetnsHost(this.on, namespaceName(this.runId, host.name), host));
  }

  async close(): Promise<string[]> {
    const machine = this.machine;
    if (!machine) return [];
    try {
      return await removeRunNamespaces(machine, this.runId);
    } finally {
      this.machine = undefined;
      await machine.close();
    }
  }
}

/** Removes the namespaces of one run (or of every run) on a machine; returns what it removed. */
export async function removeRunNamespaces(
  machine: Machine,
  runId: string | undefined,
  keep: (runId: string) => boolean = () => false,
): Promise<string[]> {
  const listing = await execOn(machine, ['ip', 'netns', 'list']);
  const namespaces = labNamespaces(listing.stdout, runId).filter((ns) => !keep(runOfNamespace(ns)));
  await removeNamespaces(machine, namespaces);
  return namespaces.map((ns) => `namespace ${ns}`);
}

function hostSetup(namespace: string, switchNamespace: string, host: PlannedHost, prefix: number): string[] {
  const port = `v-${host.name}`;
  const sysctls = Object.entries(host.sysctls).map(([key, value]) => `printf '%s\\n' ${quote(value)} > /proc/sys/${key.replaceAll('.', '/')}`);
  return [
    `ip netns add ${namespace}`,
    `ip -n ${switchNamespace} link add ${port} type veth peer name eth0 netns ${namespace}`,
    `ip -n ${switchNamespace} link set ${port} master ${BRIDGE} up`,
    `ip -n ${namespace} link set lo up`,
    `ip -n ${namespace} addr add ${host.ip}/${prefix} dev eth0`,
    // IPv6 addresses without duplicate address detection, usable at once (as Docker adds them); its own first.
    ...(host.ip6 ? [`ip -n ${namespace} -6 addr add ${host.ip6}/64 dev eth0 nodad`] : []),
    ...host.extraAddresses.map((address) => `ip -n ${namespace} addr add ${address} dev eth0${isIpv6(address) ? ' nodad' : ''}`),
    `ip -n ${namespace} link set eth0 up`,
    ...(sysctls.length ? [`ip netns exec ${namespace} sh -c ${quote(sysctls.join('; '))}`] : []),
  ];
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
