import { randomBytes } from 'node:crypto';

/** A short id, unique enough to label every object of one run: time in base 36, then 4 random hex digits. */
export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}
