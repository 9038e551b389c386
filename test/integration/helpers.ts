/** Shared by the integration tests: one real engine, the lab's CLI as a user runs it, and leak checks. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { DockerRuntime } from '../../lab/runtime/docker/docker-runtime.ts';
import { RUN_LABEL } from '../../lab/runtime/docker/labels.ts';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const runtime = new DockerRuntime(projectRoot);
let prepared: Promise<void> | undefined;

/** Engine, base image and lab images, once for the whole test run (the first call may take minutes). */
export function prepareRuntime(): Promise<void> {
  prepared ??= runtime.prepare((line) => console.log(`      (setup) ${line}`));
  return prepared;
}

export async function labelledObjects(runId?: string): Promise<{ containers: string[]; networks: string[] }> {
  const docker = new Docker();
  const filters = JSON.stringify({ label: [runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return { containers: containers.map((c) => c.Names.join(',')), networks: networks.map((n) => n.Name) };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function lab(args: string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, ['bin/lab.js', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 15 * 60 * 1000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const fixture = (name: string) => `test/fixtures/scenarios/${name}`;
