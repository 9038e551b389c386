/**
 * The images build FROM a Debian base. Where the registry cannot be reached (as on the lab's machines), the
 * base is made locally: debootstrap from the machine's own apt mirror, then `docker import`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { $, type ProcessOutput } from 'zx';
import { EnvironmentError } from '../../errors.ts';
import type { Log } from '../runtime.ts';
import { aptInstall, aptMirror } from '../debian-packages.ts';
import { openBuildLog } from './build-log.ts';
import { IMAGE_LABEL } from './labels.ts';

export const UPSTREAM_BASE = 'debian:bookworm-slim';
export const LOCAL_BASE = 'lab-base:bookworm';
const PULL_TIMEOUT_MS = 20_000;

async function hasImage(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** The base image to build on: LAB_BASE_IMAGE, else debian:bookworm-slim, else one made here. */
export async function ensureBaseImage(docker: Docker, log: Log): Promise<string> {
  const chosen = process.env.LAB_BASE_IMAGE;
  if (chosen) {
    if (!(await hasImage(docker, chosen))) throw new EnvironmentError(`LAB_BASE_IMAGE=${chosen} is not an image this engine has`);
    return chosen;
  }
  if (await hasImage(docker, UPSTREAM_BASE)) return UPSTREAM_BASE;
  if (await hasImage(docker, LOCAL_BASE)) return LOCAL_BASE;
  if (await tryPull(docker, UPSTREAM_BASE)) return UPSTREAM_BASE;
  log(`${UPSTREAM_BASE} cannot be pulled: making ${LOCAL_BASE} with debootstrap from this machine's apt mirror`);
  await debootstrapImport(docker, LOCAL_BASE, log);
  return LOCAL_BASE;
}

async function tryPull(docker: Docker, name: string): Promise<boolean> {
  const pulled = new Promise<boolean>((resolve) => {
    docker.pull(name, (error: Error | null, stream: NodeJS.ReadableStream) => {
      if (error) return resolve(false);
      docker.modem.followProgress(stream, (err) => resolve(!err));
    });
  });
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PULL_TIMEOUT_MS).unref());
  return Promise.race([pulled, timeout]);
}

async function debootstrapImport(docker: Docker, name: string, log: Log): Promise<void> {
  if (!existsSync('/usr/sbin/debootstrap')) {
    if (process.getuid?.() !== 0)
      throw new EnvironmentError('debootstrap is missing and the lab is not root', `install debootstrap, or load ${UPSTREAM_BASE} into the engine`);
    await aptInstall(['debootstrap']);
  }
  const mirror = await aptMirror();
  const dir = await mkdtemp(join(tmpdir(), 'lab-base-'));
  const buildLog = await openBuildLog(name, log);
  // Each command's output, both streams in order, goes to the build log, whether it failed or not.
  const logged = async (command: Promise<ProcessOutput>): Promise<void> => {
    try {
      buildLog.write((await command).stdall);
    } catch (error) {
      buildLog.write((error as Partial<ProcessOutput>).stdall ?? '');
      throw error;
    }
  };
  try {
    await logged($({ quiet: true })`debootstrap --variant=minbase bookworm ${dir} ${mirror}`);
    await logged($({ quiet: true })`tar -C ${dir} -c . | docker import --change ${`LABEL ${IMAGE_LABEL}=base`} - ${name}`);
  } catch (error) {
    const e = error as { stderr?: string };
    const hint = buildLog.path && `the whole build: ${buildLog.path}`;
    throw new EnvironmentError(`could not make the base image ${name}: ${(e.stderr ?? String(error)).trim().split('\n').pop()}`, hint);
  } finally {
    await Promise.all([buildLog.close(), rm(dir, { recursive: true, force: true })]);
  }
  if (!(await hasImage(docker, name))) throw new EnvironmentError(`docker import did not produce ${name}`);
}
