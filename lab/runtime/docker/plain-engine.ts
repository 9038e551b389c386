/**
 * The engine without the lab: plain containers and networks carrying a lab.run label, programs run in them
 * with `docker exec`, and removal of everything whose label starts with a prefix. For measurements that put
 * the lab's programs beside reference programs, or the lab beside the bare engine (bench/); labs themselves
 * run through DockerRuntime, which plans, checks and collects.
 */
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import type { Log } from '../runtime.ts';
import { ensureBaseImage } from './base-image.ts';
import { buildImage, ensureImage, type ImageBuild } from './images.ts';
import { RUN_LABEL } from './labels.ts';
import { subnetsInUse } from './network.ts';

/** A container of this engine: a plain one, or a lab host's (DockerHost.container). */
export type Container = Docker.Container;

export interface PlainNetworkSpec {
  name: string;
  subnet: string;
  labels: Record<string, string>;
  /** The engine refuses a second network of the same name. */
  checkDuplicate?: boolean;
  /** The bridge driver's options (com.docker.network.bridge.*). */
  options?: Record<string, string>;
}

export interface PlainContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  labels: Record<string, string>;
  /** Attached to this network only, at this address. */
  network: string;
  ip: string;
  sysctls: Record<string, string>;
  /** Open-file limit, soft = hard. */
  nofile: number;
  binds?: string[];
  /** Docker's init as PID 1. */
  init?: boolean;
}

/** Where a program's output goes as it comes, and its exit code (-1 when the engine cannot tell). */
export interface ExecSink {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  exited(code: number): void;
}

export class PlainEngine {
  private readonly docker = new Docker();

  async describe(): Promise<{ version: string; apiVersion: string; driver: string; cgroupVersion?: string }> {
    const [version, info] = await Promise.all([this.docker.version(), this.docker.info()]);
    return { version: version.Version, apiVersion: version.ApiVersion, driver: info.Driver, cgroupVersion: info.CgroupVersion };
  }

  /** Every subnet of the engine's networks. */
  subnetsInUse(): Promise<string[]> {
    return subnetsInUse(this.docker);
  }

  /** The lab's base, client and server images for the current sources, as the lab gets them (built when they changed). */
  async labImages(projectRoot: string, log: Log): Promise<{ base: string; client: string; server: string }> {
    const base = await ensureBaseImage(this.docker, log);
    const client = await ensureImage(this.docker, projectRoot, 'client', base, log);
    const server = await ensureImage(this.docker, projectRoot, 'server', base, log);
    return { base, client, server };
  }

  /** Builds an image; returns its tag. A failure says the engine's reason and the build's last lines. */
  async buildImage(build: ImageBuild): Promise<string> {
    await buildImage(this.docker, build, (reason, last) => new Error(`building ${build.tag} failed: ${reason}\n${last}`));
    return build.tag;
  }

  /** An internal bridge network (no way out). */
  async createNetwork(spec: PlainNetworkSpec): Promise<{ remove(): Promise<void> }> {
    const network = await this.docker.createNetwork({
      Name: spec.name,
      Driver: 'bridge',
      Internal: true,
      ...(spec.checkDuplicate !== undefined && { CheckDuplicate: spec.checkDuplicate }),
      IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet }] },
      Labels: spec.labels,
      ...(spec.options && { Options: spec.options }),
    });
    return { remove: async () => void (await network.remove()) };
  }

  /** Creates and starts a container. */
  async startContainer(spec: PlainContainerSpec): Promise<Container> {
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Cmd: spec.cmd,
      Labels: spec.labels,
      HostConfig: {
        NetworkMode: spec.network,
        Sysctls: spec.sysctls,
        Ulimits: [{ Name: 'nofile', Soft: spec.nofile, Hard: spec.nofile }],
        ...(spec.binds && { Binds: spec.binds }),
        ...(spec.init !== undefined && { Init: spec.init }),
      },
      NetworkingConfig: { EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.ip } } } },
    });
    await container.start();
    return container;
  }

  /** The container's first process as this machine sees it (for nsenter). */
  async pid(container: Container): Promise<number> {
    return (await container.inspect()).State.Pid;
  }

  /** Force-removes a container with its volumes; a failure with a status in `ignore` (404 gone, 409 already going) is none. */
  async removeContainer(container: Container, ignore: readonly number[] = []): Promise<void> {
    await container.remove({ force: true, v: true }).catch((e: { statusCode?: number }) => {
      if (e.statusCode === undefined || !ignore.includes(e.statusCode)) throw e;
    });
  }

  /** Starts argv in the container and returns once it runs; its output and exit go to `sink`. */
  async run(container: Container, argv: string[], sink: ExecSink): Promise<void> {
    const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough().setEncoding('utf8');
    const err = new PassThrough().setEncoding('utf8');
    out.on('data', (d: string) => sink.stdout(d));
    err.on('data', (d: string) => sink.stderr(d));
    this.docker.modem.demuxStream(stream, out, err);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      exec.inspect().then(
        (i) => sink.exited(i.ExitCode ?? -1),
        () => sink.exited(-1),
      );
    };
    stream.on('end', end);
    stream.on('error', end);
    stream.on('close', end);
  }

  /** Runs argv to its end; its stdout as text. */
  async exec(container: Container, argv: string[]): Promise<{ code: number; stdout: string }> {
    const chunks: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      this.run(container, argv, { stdout: (d) => chunks.push(d), stderr: () => {}, exited: resolve }).catch(reject);
    });
    return { code, stdout: chunks.join('') };
  }

  /** The labels of every running container that has a `label` label. */
  async runningLabelled(label: string): Promise<Array<Record<string, string>>> {
    const running = await this.docker.listContainers({ filters: JSON.stringify({ label: [label] }) });
    return running.map((c) => c.Labels);
  }

  /** Removes every container, network and image whose lab.run label starts with `prefix`; says what it removed. */
  async removeLabelled(prefix: string): Promise<string[]> {
    const mine = (labels: Record<string, string> | undefined) => !!labels?.[RUN_LABEL]?.startsWith(prefix);
    const filters = JSON.stringify({ label: [RUN_LABEL] });
    const removed: string[] = [];
    const containers = (await this.docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels));
    await Promise.all(
      containers.map(async (c) => {
        await this.docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
        removed.push(`container ${c.Names[0]?.replace(/^\//, '')}`);
      }),
    );
    for (const n of (await this.docker.listNetworks({ filters })).filter((n) => mine(n.Labels))) {
      await removeNetwork(this.docker.getNetwork(n.Id));
      removed.push(`network ${n.Name}`);
    }
    // Images last, newest first: the final image before the build stage it was made from.
    const images = (await this.docker.listImages({ all: true, filters })).filter((i) => mine(i.Labels)).sort((a, b) => b.Created - a.Created);
    for (const image of images) {
      await this.docker
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => undefined);
      removed.push(`image ${image.RepoTags?.find((t) => t !== '<none>:<none>') ?? image.Id.slice(7, 19)}`);
    }
    return removed;
  }
}

/**
 * A network goes once its last container has: one that another caller is removing at the same time (a bench's
 * own teardown beside its Ctrl-C cleanup) still holds its endpoint for a moment, so a few tries, 250 ms apart.
 */
async function removeNetwork(network: Docker.Network, tries = 20): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await network.remove();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404 || attempt >= tries) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
