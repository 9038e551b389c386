/** Reading sysctls back from inside a host or its machine: a shell line per name, and its parser. */
import type { EnvironmentFingerprint, MachineShell } from '../runtime/runtime.ts';

/** Prints `name=value` per sysctl, tabs turned to spaces ("32768\t60999" reads "32768 60999"). */
export function readSysctlsScript(names: readonly string[]): string {
  return names.map((n) => `printf '%s=%s\\n' ${n} "$(tr '\\t' ' ' < /proc/sys/${n.replaceAll('.', '/')})"`).join('; ');
}

export function parseSysctlLines(text: string): Record<string, string> {
  const sysctls: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) sysctls[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return sysctls;
}

/**
 * What a fresh network namespace starts with on a kernel, read in one that vanishes with the shell
 * reading it. `run` executes argv where that kernel is (root needed for unshare -n).
 */
export async function readNamespaceDefaults(
  run: (argv: string[]) => Promise<{ exitCode: number; stdout: string }>,
): Promise<Record<string, string> | undefined> {
  const result = await run(['unshare', '-n', 'sh', '-c', readSysctlsScript(NAMESPACE_DEFAULTS)]);
  return result.exitCode === 0 ? parseSysctlLines(result.stdout) : undefined;
}

/**
 * Machine-wide limits, read in the machine's initial network namespace (tcp_mem exists only there): they
 * bound every container at once and no container can set them, so the lab reads them and never sets them.
 */
export async function readMachineSysctls(
  run: (argv: string[]) => Promise<{ exitCode: number; stdout: string }>,
): Promise<Record<string, string> | undefined> {
  const script = MACHINE_SYSCTLS.map((n) => `[ -r /proc/sys/${n.replaceAll('.', '/')} ] && ${readSysctlsScript([n])}`).join('; ');
  const result = await run(['sh', '-c', `${script}; true`]);
  const sysctls = result.exitCode === 0 ? parseSysctlLines(result.stdout) : {};
  return Object.keys(sysctls).length ? sysctls : undefined;
}

/** What the machine the hosts run on says of itself, read through a shell there (none: nothing read). */
export async function readMachineFacts(
  shell: MachineShell | undefined,
): Promise<Pick<EnvironmentFingerprint, 'namespaceDefaults' | 'machineSysctls'>> {
  if (!shell) return {};
  const namespaceDefaults = await readNamespaceDefaults(shell);
  const machineSysctls = await readMachineSysctls(shell);
  return { ...(namespaceDefaults && { namespaceDefaults }), ...(machineSysctls && { machineSysctls }) };
}

/** tcp_mem: pages all TCP sockets' buffers may use (low, pressure, high); the open-file tables; conntrack. */
export const MACHINE_SYSCTLS = ['net.ipv4.tcp_mem', 'fs.file-max', 'fs.nr_open', 'net.netfilter.nf_conntrack_max'];

/** The defaults a fresh network namespace starts with that the experiments lean on. */
export const NAMESPACE_DEFAULTS = [
  'net.ipv4.ip_local_port_range',
  'net.core.somaxconn',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_fin_timeout',
];
