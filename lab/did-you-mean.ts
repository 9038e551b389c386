/** "Did you mean": the nearest candidate to a mistyped word, for commands, options and scenario fields. */

/**
 * The nearest candidate by edit distance, when it is near enough to be what was meant: within a third of
 * the word's length, and at least `atLeast` edits (short command names allow 1; field names 2).
 */
export function closest(word: string, candidates: readonly string[], atLeast = 1): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(atLeast, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance with a swap of two neighbours counted as one edit ("rnu" is one from "run"). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
