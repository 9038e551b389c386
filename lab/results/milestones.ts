import type { Sample } from '../collect/sampler.ts';
import type { Milestone } from './results.ts';

const MILESTONE_STEP = 100_000;

/** When the server's kernel first counted each 100k established connections, from the samples. */
export function milestones(samples: readonly Sample[], server: string): Milestone[] {
  const reached: Milestone[] = [];
  for (const s of samples.filter((x) => x.host === server).sort((a, b) => a.t - b.t)) {
    while (s.estab >= (reached.length + 1) * MILESTONE_STEP) reached.push({ connections: (reached.length + 1) * MILESTONE_STEP, seconds: s.t / 1000 });
  }
  return reached;
}
