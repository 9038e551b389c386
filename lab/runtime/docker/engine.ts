/**
 * Finds a Docker engine that answers. Where none does and this is a Debian machine where we are root (as on
 * the lab's CI machines), installs Debian's docker.io and starts dockerd, saying so. Anywhere else it stops
 * with an EnvironmentError that tells the user what to do.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import Docker from 'dockerode';
import { EnvironmentError } from '../../errors.ts';
import { aptInstall, mayInstallPackages } from '../debian-packages.ts';
import type { Log } from '../runtime.ts';

const DOCKERD_LOG = '/var/log/lab-dockerd.log';
const DOCKERD_PID_FILE = '/var/run/docker.pid';
const CONTAINERD_PID_FILE = '/var/run/docker/containerd/containerd.pid';
const START_TIMEOUT_MS = 60_000;

type Answer = { ok: true } | { ok: false; code: string; message: string };

async function ping(docker: Docker): Promise<Answer> {
  try {
    await docker.ping();
    return { ok: true };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'UNKNOWN', message: e.message };
  }
}

function socketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

/** Whether the engine runs on this machine (its socket here), so that this machine's limits are its own. */
export function engineIsLocal(): boolean {
  const host = process.env.DOCKER_HOST;
  return !host || host.startsWith('unix://');
}

function mayInstall(): boolean {
  return mayInstallPackages() && !process.env.DOCKER_HOST;
}

export async function connectEngine(log: Log): Promise<Docker> {
  const docker = new Docker();
  const first = await ping(docker);
  if (first.ok) return docker;
  if (first.code === 'EACCES') {
    throw new EnvironmentError(
      `permission denied on the Docker socket ${socketPath()}`,
      'add your user to the docker group (then log in again) or run the lab as root',
    );
  }
  if (!mayInstall()) {
    throw new EnvironmentError(
      `no Docker engine answers at ${socketPath()} (${first.code})`,
      'start Docker (or set DOCKER_HOST); on Debian as root the lab can install and start docker.io itself',
    );
  }
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    log("no Docker engine here: installing Debian's docker.io (apt-get)");
    await aptInstall(['docker.io']);
  }
  removeStalePidFiles(log);
  log(`starting dockerd in the background (log: ${DOCKERD_LOG})`);
  const out = openSync(DOCKERD_LOG, 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] }).unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await ping(docker)).ok) return docker;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new EnvironmentError(`dockerd did not answer within ${START_TIMEOUT_MS / 1000} s`, `see ${DOCKERD_LOG}`);
}

/**
 * A dockerd (or the containerd it manages) that died without cleaning up leaves its pid file, and a new
 * dockerd refuses to start over it, or waits forever for a containerd that is gone.
 */
function removeStalePidFiles(log: Log): void {
  for (const [file, program] of [
    [DOCKERD_PID_FILE, 'dockerd'],
    [CONTAINERD_PID_FILE, 'containerd'],
  ] as const) {
    if (!existsSync(file)) continue;
    const pid = readFileSync(file, 'utf8').trim();
    // /proc/<pid>/stat: "pid (comm) state ..."; a zombie (Z) is as gone as a missing process.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    const running = stat.includes(`(${program})`) && !/\) Z /.test(stat);
    if (running && program === 'dockerd') throw new EnvironmentError(`dockerd (pid ${pid}) is running but does not answer on ${socketPath()}`);
    if (running) continue;
    log(`removing the stale ${file} of a ${program} that is gone (pid ${pid})`);
    unlinkSync(file);
  }
}
