import { readFile } from 'node:fs/promises';
import { version as kernelVersion } from 'node:os';
import type Docker from 'dockerode';
import { $ } from 'zx';
import { EnvironmentError, RuntimeFailure } from '../../errors.ts';
import type { PlannedClient, PlannedHost } from '../../plan/plan.ts';
import type { EnvironmentFingerprint, Host, LabNetwork, Log, Runtime } from '../runtime.ts';
import { ensureBaseImage } from './base-image.ts';
import { removeByLabel } from './cleanup.ts';
import { connectEngine } from './engine.ts';
import { accountSocketBuffers } from './memory-cgroup.ts';
import { DockerHost } from './host.ts';
import { ensureImage, ensureProgramImage, type ImageRole } from './images.ts';
import { runLabels } from './labels.ts';
import { createLabNetwork, subnetsInUse } from './network.ts';
import { hostConntrack } from './conntrack.ts';
import { readMachineSysctls, readNamespaceDefaults } from '../../collect/sysctls.ts';

/** Runs plans as containers on one internal bridge network of a real Docker engine. */
export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  readonly hostKind = 'container';
  readonly connectionTracking = hostConntrack;
  private engine?: Docker;
  private readonly images = new Map<ImageRole, string>();
  private readonly programImages = new Map<string, string>();

  constructor(private readonly projectRoot: string) {}

  /** Engine only: enough for cleanup and fingerprints, no image builds. */
  async connect(log: Log): Promise<void> {
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
      this.programImages.set(dockerfile, await ensureProgramImage(docker, dockerfile, this.images.get('client')!, log));
    }
  }

  private get docker(): Docker {
    if (!this.engine) throw new Error('DockerRuntime used before connect()');
    return this.engine;
  }

  async fingerprint(): Promise<EnvironmentFingerprint> {
    const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
    const images: Record<string, { name: string; id: string }> = {};
    for (const [role, name] of this.images) images[role] = { name, id: (await this.docker.getImage(name).inspect()).Id };
    // Containers run on this machine's kernel when the engine is local: a namespace made here starts the same.
    const local = !process.env.DOCKER_HOST && process.getuid?.() === 0;
    const here = (argv: string[]): Promise<{ exitCode: number; stdout: string }> => $({ quiet: true, nothrow: true })`${argv}`.then((r) => ({ exitCode: r.exitCode ?? 1, stdout: r.stdout }));
    const namespaceDefaults = local ? await readNamespaceDefaults(here) : undefined;
    const machineSysctls = local ? await readMachineSysctls(here) : undefined;
    return {
      runtime: this.name,
      kernel: String(info.KernelVersion),
      ...(local && { kernelVersion: kernelVersion() }),
      engine: `Docker ${version.Version} (API ${version.ApiVersion})`,
      ...(this.images.size ? { images } : {}),
      ...(namespaceDefaults && { namespaceDefaults }),
      ...(machineSysctls && { machineSysctls }),
    };
  }

  /** Containers inherit dockerd's hard open-file limit and cannot go above it. */
  async nofileCeiling(): Promise<number> {
    const pid = (await readFile('/var/run/docker.pid', 'utf8').catch(() => 'self')).trim();
    const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => readFile('/proc/self/limits', 'utf8'));
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    const hard = line?.[2] === 'unlimited' ? 1 << 20 : Number(line?.[2]);
    if (!Number.isFinite(hard) || hard <= 0) throw new EnvironmentError('cannot read the open-file limit the engine runs with');
    return Math.min(hard, 1 << 20);
  }

  async answers(): Promise<boolean> {
    return this.docker.ping().then(() => true, () => false);
  }

  subnetsInUse(): Promise<string[]> {
    return subnetsInUse(this.docker);
  }

  createNetwork(runId: string, subnet: string | undefined, scenarioFile: string): Promise<LabNetwork> {
    return createLabNetwork(this.docker, runId, subnet, scenarioFile);
  }

  async startHosts(runId: string, network: LabNetwork, hosts: PlannedHost[], lifetimeSeconds: number): Promise<Host[]> {
    return Promise.all(hosts.map((host) => this.startHost(runId, network, host, lifetimeSeconds)));
  }

  private async startHost(runId: string, network: LabNetwork, host: PlannedHost, lifetimeSeconds: number): Promise<Host> {
    const dockerfile = (host as PlannedClient).customProgram?.dockerfile;
    const image = dockerfile ? this.programImages.get(dockerfile) : this.images.get(host.role);
    if (!image) throw new Error('DockerRuntime.startHosts before prepare()');
    const name = `lab-${runId}-${host.name}`;
    try {
      const container = await this.docker.createContainer({
        name,
        Image: image,
        // PID 1 ends by itself, so even a lab killed with SIGKILL leaves no container running for long.
        Cmd: ['sleep', String(lifetimeSeconds)],
        Labels: runLabels(runId, { 'lab.role': host.role, 'lab.host': host.name }),
        Hostname: host.name,
        HostConfig: {
          NetworkMode: network.name,
          Sysctls: host.sysctls,
          Ulimits: [{ Name: 'nofile', Soft: host.nofile, Hard: host.nofile }],
          Privileged: false,
          CapAdd: Object.keys(host.capabilities),
          Init: false,
        },
        NetworkingConfig: { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: host.ip } } } },
      });
      await container.start();
      const pid = await this.dropDefaultRoute(container);
      const started = new DockerHost(this.docker, container, host, { tcpAccounted: await accountSocketBuffers(pid) });
      for (const address of host.extraAddresses) {
        const added = await started.exec(['ip', 'addr', 'add', address, 'dev', 'eth0']);
        if (added.exitCode !== 0) throw new Error(`ip addr add ${address} failed: ${added.stderr.trim()}`);
      }
      return started;
    } catch (error) {
      throw new RuntimeFailure(`cannot start ${host.name} (${host.ip}): ${(error as Error).message.split('\n')[0]}`);
    }
  }

  /**
   * Docker gives containers a default route via the bridge even on an internal network (its iptables rules
   * then drop what leaves). The lab removes the route so that nothing in a host even tries to leave the
   * lab's subnet, from outside the container so that the container stays unprivileged: nsenter into its
   * network namespace where the lab runs as root beside the engine, else a one-off privileged exec.
   */
  private async dropDefaultRoute(container: Docker.Container): Promise<number> {
    const { State } = await container.inspect();
    const viaNsenter = await $({ quiet: true, nothrow: true })`nsenter --net=/proc/${State.Pid}/ns/net ip route del default`;
    if (viaNsenter.exitCode === 0 || /No such process/.test(viaNsenter.stderr)) return State.Pid;
    const exec = await container.exec({ Cmd: ['ip', 'route', 'del', 'default'], Privileged: true, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    // Exit 2 is "no such route": none to drop. Otherwise the route stays; the network is internal anyway.
    await exec.inspect();
    return State.Pid;
  }

  async removeRun(runId: string | undefined): Promise<string[]> {
    // Never connected: this process created nothing.
    if (!this.engine) return [];
    return removeByLabel(this.engine, runId);
  }
}
