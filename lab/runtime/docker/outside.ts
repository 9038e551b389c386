/**
 * What a plan sets in a host's network namespace from outside (routes, a gateway's rules and addresses): as
 * root beside the engine, with nsenter and this machine's tools, so that the container stays unprivileged;
 * with a remote engine, in a one-off privileged exec with the image's tools.
 */
import type Docker from 'dockerode';
import { $ } from 'zx';
import type { PlannedHost } from '../../plan/plan.ts';

export async function setFromOutside(container: Docker.Container, pid: number | undefined, host: PlannedHost): Promise<void> {
  const commands = [...(host.routes ?? []).map((r) => ['ip', 'route', 'add', r.to, 'via', r.via]), ...(host.setFromOutside ?? [])];
  for (const argv of commands) {
    const result = pid !== undefined ? await viaNsenter(pid, argv) : await viaPrivilegedExec(container, argv);
    if (result.exitCode !== 0)
      throw new Error(`${argv.join(' ')} in ${host.name}'s namespace failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  }
}

async function viaNsenter(pid: number, argv: string[]): Promise<{ exitCode: number; stderr: string }> {
  const result = await $({ quiet: true, nothrow: true })`nsenter --net=/proc/${pid}/ns/net ${argv}`;
  return { exitCode: result.exitCode ?? 1, stderr: result.stderr };
}

async function viaPrivilegedExec(container: Docker.Container, argv: string[]): Promise<{ exitCode: number; stderr: string }> {
  const exec = await container.exec({ Cmd: argv, Privileged: true, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.on('end', resolve));
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? 1, stderr: Buffer.concat(chunks).toString('utf8') };
}
