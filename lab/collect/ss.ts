/**
 * `ss -s` inside a container mixes the container's own figures with host-wide ones. `estab` (from the
 * namespace's SNMP CurrEstab) and `timewait` belong to the namespace; `Total`, `TCP: N`, `closed` and
 * `orphaned` come from host-wide counters (every container's sockets and the host's) and are kept apart so
 * that nothing reports them as the container's own.
 */
export interface SsSummary {
  estab: number;
  timewait: number;
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
  return {
    estab: need('estab'),
    timewait: need('timewait'),
    hostWide: { total: Number(total?.[1] ?? NaN), tcp: Number(tcp[1]), closed: need('closed'), orphaned: need('orphaned') },
  };
}
