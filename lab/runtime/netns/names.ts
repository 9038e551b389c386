/**
 * Namespaces carry the run's id in their names, the only label a namespace can have: `lab-<run>-<host>`,
 * and `lab-<run>-switch` for the one holding the run's bridge. Cleanup finds them by that shape.
 */
export const SWITCH = 'switch';

export function namespaceName(runId: string, host: string): string {
  return `lab-${runId}-${host}`;
}

const LAB_NAMESPACE = /^lab-([0-9a-z]+)-(server|client-\d+|switch)$/;

/** The run a lab namespace belongs to. */
export function runOfNamespace(name: string): string {
  return LAB_NAMESPACE.exec(name)?.[1] ?? '';
}

/** The lab's namespaces among `ip netns list` output (of one run, or of every run). */
export function labNamespaces(listing: string, runId: string | undefined): string[] {
  return (
    listing
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((name) => {
        const match = LAB_NAMESPACE.exec(name);
        return !!match && (runId === undefined || match[1] === runId);
      })
      // Hosts before their switch, so that no veth outlives its bridge's namespace for long.
      .sort((a, b) => Number(a.endsWith(`-${SWITCH}`)) - Number(b.endsWith(`-${SWITCH}`)))
  );
}
