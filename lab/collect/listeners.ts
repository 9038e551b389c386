/** `ss -Htln`: the TCP ports bound by listening sockets, which connect() skips when it picks a port. */
export function parseListeningPorts(text: string): number[] {
  const ports = new Set<number>();
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns.length < 5) continue;
    const local = columns[3]!;
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** `ss -Htln`: each listening port's backlog (Send-Q of a listener: what listen() got, after somaxconn). */
export function parseListenBacklogs(text: string): Record<string, number> {
  const backlogs: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns.length < 5) continue;
    const local = columns[3]!;
    backlogs[local.slice(local.lastIndexOf(':') + 1)] = Number(columns[2]);
  }
  return backlogs;
}

/** A listening socket as `ss -Htln` (or -Htlnp) lists it: its local address and port, and the processes holding it where -p named them. */
export interface Listener {
  /** As ss writes it, brackets and an interface (%lo) taken off: "0.0.0.0", "127.0.0.1", "::", "*". */
  address: string;
  port: number;
  pids: number[];
}

export function parseListeners(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns.length < 5) continue;
    const local = columns[3]!;
    const colon = local.lastIndexOf(':');
    const port = Number(local.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port) || port <= 0) continue;
    const address = local
      .slice(0, colon)
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/%[^%]*$/, '');
    const pids = [
      ...columns
        .slice(5)
        .join(' ')
        .matchAll(/\bpid=(\d+)/g),
    ].map((m) => Number(m[1]));
    listeners.push({ address, port, pids });
  }
  return listeners;
}

/** Whether a connection to ip reaches a listener on this address: the address itself, or any address. */
export function reaches(listener: Listener, ip: string): boolean {
  return ['0.0.0.0', '*', '::', ip, `::ffff:${ip}`].includes(listener.address);
}

/** "127.0.0.1:8080", "[::1]:8080". */
export function listenerAddress(listener: Listener): string {
  return `${listener.address.includes(':') ? `[${listener.address}]` : listener.address}:${listener.port}`;
}

export interface ListenerCheck {
  /** The ports no listener the clients can reach holds (on the server's address, or on any). */
  unreachable: number[];
  /** Of those, the ones held only on other addresses (127.0.0.1), each such listener once: "127.0.0.1:8080". */
  elsewhere: string[];
}

/** Which of the ports the clients connect to (at ip) no listener they can reach holds, and where those are held instead. */
export function checkListeners(listeners: readonly Listener[], ports: readonly number[], ip: string): ListenerCheck {
  const unreachable = ports.filter((port) => !listeners.some((l) => l.port === port && reaches(l, ip)));
  const elsewhere = [...new Set(listeners.filter((l) => unreachable.includes(l.port)).map(listenerAddress))];
  return { unreachable, elsewhere };
}

/** The line for a server whose ports are all held, some only on addresses the clients cannot reach. */
export function elsewhereProblem(host: string, check: ListenerCheck, ip: string): string {
  const at = check.elsewhere.length > 1 ? `${check.elsewhere.slice(0, -1).join(', ')} and ${check.elsewhere.at(-1)}` : check.elsewhere[0];
  return `${host}: listens on ${at} only, not on ${ip}: the clients cannot reach it (listen on ${ip} or on 0.0.0.0)`;
}

/**
 * The listeners the server's own program holds, one per address and port (reuseport's copies, one per
 * worker, count once): those ss names a process for. The engine's own (Docker's DNS on 127.0.0.11) are held
 * from outside the host, so ss names none. Undefined where ss named no process at all (no -p there).
 */
export function programListeners(listeners: readonly Listener[]): Array<{ address: string; port: number }> | undefined {
  if (!listeners.some((l) => l.pids.length)) return undefined;
  const held = new Map<string, { address: string; port: number }>();
  for (const l of listeners) if (l.pids.length) held.set(listenerAddress(l), { address: l.address, port: l.port });
  return [...held.values()].sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
}
