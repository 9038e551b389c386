/**
 * Sysctls the lab may set per container. They must live in the container's network namespace: Docker
 * refuses host-wide ones (fs.file-max), and a name the kernel does not know fails only at container start,
 * so both are checked before anything is created.
 */
export const NAMESPACED_SYSCTLS: ReadonlySet<string> = new Set([
  'net.core.somaxconn',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_autobind_reuse',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_abort_on_overflow',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_synack_retries',
  'net.ipv4.tcp_syn_retries',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_orphan_retries',
  'net.ipv4.tcp_retries2',
]);

/** Why a sysctl cannot be set per container, or undefined when it can. */
export function sysctlProblem(name: string): string | undefined {
  if (NAMESPACED_SYSCTLS.has(name)) return undefined;
  if (/^(fs|vm|kernel)\./.test(name) || /^net\.(netfilter|ipv4\.tcp_mem|core\.(rmem|wmem)_max)/.test(name)) {
    return 'is host-wide: Docker cannot set it per container';
  }
  return `is not a per-network-namespace sysctl the lab knows (known: ${[...NAMESPACED_SYSCTLS].map((s) => s.replace(/^net\.(ipv4|core)\./, '')).join(', ')})`;
}
