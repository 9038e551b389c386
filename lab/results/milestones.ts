import { SAMPLE_INTERVAL_MS, type Sample } from '../collect/sampler.ts';
import type { Milestone } from './results.ts';

const MILESTONE_STEP = 100_000;
/**
 * Readings further apart than this did not see what happened between them: the sampler reads about once a
 * second, and a flood that starves it (c2m's) leaves gaps of a minute and more. A milestone crossed in such a
 * gap has no time: the first reading after it would make one up.
 */
export const MILESTONE_GAP_MS = 3 * SAMPLE_INTERVAL_MS;

/**
 * When the server's kernel first counted each 100k established connections, from its readings. A milestone
 * crossed between two readings further apart than MILESTONE_GAP_MS (or before a first reading that came that
 * late) is not sampled: it keeps the two readings around it instead of a time.
 */
export function milestones(samples: readonly Sample[], server: string): Milestone[] {
  const reached: Milestone[] = [];
  let previous: Sample | undefined;
  for (const s of samples.filter((x) => x.host === server && x.source === 'kernel').sort((a, b) => a.t - b.t)) {
    const seen = s.t - (previous?.t ?? 0) <= MILESTONE_GAP_MS;
    while (s.estab >= (reached.length + 1) * MILESTONE_STEP) {
      const connections = (reached.length + 1) * MILESTONE_STEP;
      if (seen) reached.push({ connections, seconds: s.t / 1000 });
      else reached.push({ connections, notSampled: { ...(previous && { before: reading(previous) }), after: reading(s) } });
    }
    previous = s;
  }
  return reached;
}

function reading(s: Sample): { connections: number; seconds: number } {
  return { connections: s.estab, seconds: s.t / 1000 };
}

/**
 * The milestones in one line: "the server reached 100,000 at 2.0 s; 200,000 to 2,000,000: not sampled (the
 * sampler saw 150,000 at 2.0 s, then 2,050,000 at 95.8 s)". Those crossed in one gap are said together.
 */
export function milestonesLine(reached: readonly Milestone[]): string | undefined {
  if (!reached.length) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < reached.length; ) {
    const m = reached[i]!;
    if (!m.notSampled) {
      parts.push(m.seconds === undefined ? `${count(m.connections)}: not sampled` : `${count(m.connections)} at ${m.seconds.toFixed(1)} s`);
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < reached.length && sameGap(reached[j + 1]!, m)) j++;
    const which = j > i ? `${count(m.connections)} to ${count(reached[j]!.connections)}` : count(m.connections);
    const { before, after } = m.notSampled;
    const saw = before
      ? `the sampler saw ${count(before.connections)} at ${before.seconds.toFixed(1)} s, then ${count(after.connections)} at ${after.seconds.toFixed(1)} s`
      : `the sampler's first reading, at ${after.seconds.toFixed(1)} s, saw ${count(after.connections)}`;
    parts.push(`${which}: not sampled (${saw})`);
    i = j + 1;
  }
  const separator = reached.some((m) => m.seconds === undefined) ? '; ' : ', ';
  return `the server reached ${parts.join(separator)}`;
}

function sameGap(a: Milestone, b: Milestone): boolean {
  return !!a.notSampled && !!b.notSampled && a.notSampled.after.seconds === b.notSampled.after.seconds && a.notSampled.before?.seconds === b.notSampled.before?.seconds;
}

/** 2000000 → "2,000,000", as the reports write counts. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}
