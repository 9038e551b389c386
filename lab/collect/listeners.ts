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
