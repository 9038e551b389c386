/** `nstat -asz`: absolute values of the namespace's SNMP and netstat counters, zeros included. */
export function parseNstat(text: string): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [name, value] = line.trim().split(/\s+/);
    if (!name || value === undefined || !/^\d+$/.test(value)) throw new Error(`nstat: cannot read line "${line}"`);
    counters[name] = Number(value);
  }
  return counters;
}
