/**
 * `ss -s` inside a container mixes the container's own figures with host-wide ones. `estab` (from the
 * namespace's SNMP CurrEstab) and `timewait` belong to the namespace; `Total`, `TCP: N`, `closed` and
 * `orphaned` come from host-wide counters (every container's sockets and the host's) and are kept apart so
 * that nothing reports them as the container's own.
 */
export interface SsSummary {
  /** Both families: Linux keeps one TCP MIB for IPv4 and IPv6 (/proc/net/snmp6 has no Tcp6 section). */
  estab: number;
  timewait: number;
  /** The namespace's TCP sockets in use per family (the table's TCP row, from sockstat and sockstat6): connected and listening, not TIME_WAIT. */
  tcpSockets?: { ipv4: number; ipv6: number };
  hostWide: { total: number; tcp: number; closed: number; orphaned: number };
}

export function parseSsSummary(text: string): SsSummary {
  const tcp = /^TCP:\s+(\d+)\s+\(([^)]*)\)/m.exec(text);
  const total = /^Total:\s+(\d+)/m.exec(text);
  if (!tcp) throw new Error(`not the output of ss -s (no "TCP:" line): ${text.slice(0, 80)}`);
  const fields = Object.fromEntries(
    tcp[2]!.split(',').map((part) => {
      const [name, value] = part.trim().split(/\s+/);
      return [name, Number(value)];
    }),
  ) as Record<string, number>;
  const need = (name: string) => {
    const v = fields[name];
    if (v === undefined || Number.isNaN(v)) throw new Error(`ss -s: no "${name}" in "${tcp[0]}"`);
    return v;
  };
  const perFamily = /^TCP\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
  return {
    estab: need('estab'),
    timewait: need('timewait'),
    ...(perFamily && { tcpSockets: { ipv4: Number(perFamily[2]), ipv6: Number(perFamily[3]) } }),
    hostWide: { total: Number(total?.[1] ?? NaN), tcp: Number(tcp[1]), closed: need('closed'), orphaned: need('orphaned') },
  };
}
