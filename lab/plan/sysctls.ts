import type { Sysctls } from '../scenario/types.ts';

/** Sysctls as the hosts get them: every value a string. */
export function sysctlStrings(sysctls: Sysctls | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(sysctls ?? {}).map(([k, v]) => [k, String(v)]));
}
