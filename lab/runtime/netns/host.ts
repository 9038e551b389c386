/** A network namespace seen through the Host interface: every command runs inside it with the host's limits. */
import type { PlannedHost } from '../../plan/plan.ts';
import type { ExecResult, Host, RunningProgram } from '../runtime.ts';
import { execOn, type Machine } from './machine.ts';

export class NetnsHost implements Host {
  constructor(
    private readonly machine: Machine,
    readonly namespace: string,
    readonly plan: PlannedHost,
  ) {}

  /** argv inside the namespace, under the host's open-file limit (as a container's ulimit would set it). */
  private inside(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.namespace, 'sh', '-c', 'ulimit -n "$0" && exec "$@"', String(this.plan.nofile), ...argv];
  }

  exec(argv: string[]): Promise<ExecResult> {
    return execOn(this.machine, this.inside(argv));
  }

  async spawn(argv: string[], onLine: (line: string) => void): Promise<RunningProgram> {
    const stderr: string[] = [];
    let partial = '';
    const process = await this.machine.spawn(
      this.inside(argv),
      (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onLine(line);
      },
      (chunk) => stderr.push(chunk),
    );
    return {
      exited: process.exited.then((code) => {
        if (partial.trim()) onLine(partial);
        return code;
      }),
      signal: (signal) => process.kill(signal),
      stderr: () => stderr.join(''),
    };
  }

  async alive(): Promise<boolean> {
    const probe = await execOn(this.machine, ['test', '-e', `/run/netns/${this.namespace}`]).catch(() => undefined);
    return probe?.exitCode === 0;
  }

  /** A namespace is there exactly while it runs. */
  exists(): Promise<boolean> {
    return this.alive();
  }

  async remove(): Promise<void> {
    await removeNamespaces(this.machine, [this.namespace]);
  }
}

/**
 * Kills whatever still runs in the namespaces, then deletes them. The veth goes first, by hand: a namespace
 * is torn down in the background, and its veth's other end would linger on the switch until then.
 */
export async function removeNamespaces(machine: Machine, namespaces: readonly string[]): Promise<void> {
  if (!namespaces.length) return;
  const script = [
    'failed=0',
    ...namespaces.map(
      (ns) =>
        `for p in $(ip netns pids ${ns} 2>/dev/null); do kill -9 $p 2>/dev/null; done; ip -n ${ns} link del eth0 2>/dev/null; ip netns del ${ns} 2>/dev/null || test ! -e /run/netns/${ns} || failed=1`,
    ),
    'exit $failed',
  ].join('; ');
  const removed = await execOn(machine, ['sh', '-c', script]);
  if (removed.exitCode !== 0) throw new Error(`cannot remove ${namespaces.join(', ')}: ${removed.stderr.trim()}`);
}
