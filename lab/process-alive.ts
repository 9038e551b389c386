import { readFileSync } from 'node:fs';

/**
 * Whether a process of this machine is still there (one we may not signal counts as there). A zombie is
 * not: it has ended, and only waits for its parent to reap it (which may be the very process asking).
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

/** /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
