/** The colours the charts give hosts and kernels: the server dark, clients and kernels from one palette. */
import type { HostResult } from '../results/results.ts';

export const SERVER_COLOR = '#222222';
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
/** Predictions and verdicts that failed. */
export const PREDICTED_COLOR = '#b00020';

/** The server dark, each client the next colour of the palette, in host order. */
export function hostColors(hosts: readonly HostResult[]): Map<string, string> {
  let next = 0;
  return new Map(hosts.map((h) => [h.name, h.role === 'server' ? SERVER_COLOR : paletteColor(next++)]));
}

export function paletteColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
