/**
 * Ports as sysctls, scenarios and /proc write them in text: a range "LOW HIGH", a list "40100-40199,40500".
 * A leaf: it imports nothing from the lab, so the schema, the sysctl checks, the plan and the theory all
 * read ports the same way.
 */

/** Ports LOW to HIGH, both included. */
export type PortRange = readonly [number, number];

/** "40000 40999" or "40000\t40999" (as /proc prints it) → [40000, 40999]. */
export function parsePortRange(text: string): PortRange {
  const parts = text.trim().split(/\s+/).map(Number);
  if (parts.length !== 2 || parts.some((p) => !Number.isInteger(p))) {
    throw new Error(`not a port range: "${text}" (expected "LOW HIGH")`);
  }
  return [parts[0]!, parts[1]!];
}

/** Why `text` is not a range within 1-65535, low end first, or undefined when it is. */
export function portRangeProblem(text: string): string | undefined {
  let range: PortRange;
  try {
    range = parsePortRange(text);
  } catch {
    return `"${text}" is not a range such as "40000 40999"`;
  }
  const [low, high] = range;
  if (low < 1 || high > 65535) return `"${text}" must lie within 1-65535`;
  if (low > high) return `"${text}" has its low end above its high end`;
  return undefined;
}

/**
 * net.ipv4.ip_unprivileged_port_start in a new network namespace (PROT_SOCK). The lab does not let a scenario
 * set it, and Docker's own 0 for it is written in no fixed order beside the scenario's sysctls (runc walks a
 * map), so a port range is written while it may still hold 1024.
 */
export const UNPRIVILEGED_PORT_START = 1024;

/**
 * Why the kernel refuses `text` as net.ipv4.ip_local_port_range, or undefined when it takes it. Its rule
 * (ipv4_local_port_range() in net/ipv4/sysctl_net_ipv4.c): both ends within 1-65535, the high end not below
 * the low, and the low end not below net.ipv4.ip_unprivileged_port_start (the value the namespace holds when
 * the range is written). Ends of one parity ("40000 40998") only draw a warning in the kernel's log: taken.
 */
export function localPortRangeProblem(text: string, unprivilegedPortStart = UNPRIVILEGED_PORT_START): string | undefined {
  const problem = portRangeProblem(text);
  if (problem !== undefined) return problem;
  const [low] = parsePortRange(text);
  if (low < unprivilegedPortStart)
    return `"${text}": the kernel refuses a low end below net.ipv4.ip_unprivileged_port_start (${unprivilegedPortStart})`;
  return undefined;
}

/** Whether `text` is "LOW HIGH" in digits with 1 <= LOW <= HIGH <= 65535, as a scenario writes a per-socket range. */
export function isPortRange(text: string): boolean {
  return /^\s*\d+\s+\d+\s*$/.test(text) && portRangeProblem(text) === undefined;
}

/** "40100-40199,40500" (ip_local_reserved_ports) → the ports it names. */
export function parsePortList(text: string): number[] {
  const ports: number[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [low, high = low] = item.split('-').map(Number);
    if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`not a port list: "${text}"`);
    for (let port = low!; port <= high!; port++) ports.push(port);
  }
  return ports;
}
