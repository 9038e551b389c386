/** How the laws combine predictions. Internal to the theory: index.ts does not re-export it. */
import type { Prediction } from '../types.ts';

export function scale(p: Prediction, factor: number, why: string): Prediction {
  return { min: p.min * factor, max: p.max * factor, why };
}

export function capAt(p: Prediction, asked: number): Prediction {
  if (asked >= p.max) return p;
  return { min: Math.min(p.min, asked), max: asked, why: `${asked} asked, below the ceiling (${p.why})` };
}
