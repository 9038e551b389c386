/**
 * The processes inside a host, each with the descriptors it holds and its open-file limit, read from /proc
 * there: what a server program of one's own (nginx's workers) started with, for the theory.
 */
import type { Host } from '../runtime/runtime.ts';
import type { HostProcess } from '../scenario/types.ts';

const LIST_PROCESSES = String.raw`for d in /proc/[0-9]*; do
  p=$(basename "$d"); [ "$p" = "$$" ] && continue
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue; [ -n "$c" ] || continue
  n=$(ls "$d/fd" 2>/dev/null | wc -l)
  l=$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "$d/limits" 2>/dev/null); [ -n "$l" ] || l=0
  printf '%s\t%s\t%s\t%s\n' "$p" "$n" "$l" "$c"
done`;

export function parseProcesses(text: string): HostProcess[] {
  return text
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((columns) => columns.length === 4 && /^\d+$/.test(columns[0]!))
    .map(([pid, fds, nofile, command]) => ({ pid: Number(pid), command: command!.trim(), openFiles: Number(fds), nofile: Number(nofile) }));
}

export async function readProcesses(host: Host): Promise<HostProcess[]> {
  const listed = await host.exec(['sh', '-c', LIST_PROCESSES]);
  return parseProcesses(listed.stdout);
}
