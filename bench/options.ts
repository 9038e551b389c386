/** The bench's command line: which parts to run, how often, and where the results go. */
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { root } from './context.ts';

export const PARTS = ['rate', 'node', 'rss', 'overhead', 'demo', 'hold'] as const;
/** hold only when asked for: a million connections need about 10 GiB and a quiet machine for most of an hour. */
const DEFAULT_PARTS: readonly Part[] = PARTS.filter((p) => p !== 'hold');
/** Connections held by the hold part's sizes (--hold-sizes). */
export const HOLD_SIZES = [10_000, 100_000, 300_000, 1_000_000];
export type Part = (typeof PARTS)[number];

export interface Options {
  parts: Part[];
  quick: boolean;
  reps: number;
  out: string;
  maxWaitS: number;
  /** The demo's cases to run (0-based), all by default. */
  demoCases?: number[];
  /** In the demo, also labclient started by the bench itself with the lab's argv: the lab without its orchestration. */
  demoBare: boolean;
  /** The hold part's sizes, connections held. */
  holdSizes: number[];
  /** The hold part grows the host's conntrack hash to this many buckets for its time (raising the ceiling grows it to the ceiling already). */
  holdBuckets?: number;
}

const FLAGS = {
  only: { type: 'string' },
  skip: { type: 'string' },
  quick: { type: 'boolean' },
  reps: { type: 'string' },
  'max-wait': { type: 'string' },
  out: { type: 'string' },
  'demo-cases': { type: 'string' },
  'demo-bare': { type: 'boolean' },
  'hold-sizes': { type: 'string' },
  'hold-conntrack-buckets': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The flags in order, each as it comes: the first one wrong (or --help) ends the bench with the usage. */
export function parseOptions(argv: string[]): Options {
  let only: Part[] | undefined;
  let skip: Part[] = [];
  let quick = false;
  let reps: number | undefined;
  let out = join(root, 'bench/results/latest.json');
  let maxWaitS = 90;
  let demoCases: number[] | undefined;
  let demoBare = false;
  let holdSizes = HOLD_SIZES;
  let holdBuckets: number | undefined;
  // Not strict: an unknown flag, a positional or '--' is said as the argument it was, with the usage.
  const { tokens } = parseArgs({ args: argv, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    const arg = argv[token.index]!;
    // A group of short flags (-hq) is none of the bench's.
    if (token.kind !== 'option' || !Object.hasOwn(FLAGS, token.name) || !(arg === token.rawName || arg.startsWith(`${token.rawName}=`)))
      usage(`unknown argument ${arg}`);
    // A flag last on the line has no value; a boolean one given a value (--quick=1) is just on.
    const value = typeof token.value === 'string' ? token.value : undefined;
    const name = token.name as keyof typeof FLAGS;
    if (name === 'only') only = partList(value);
    else if (name === 'skip') skip = partList(value);
    else if (name === 'quick') quick = true;
    else if (name === 'reps') reps = Number(value);
    else if (name === 'max-wait') maxWaitS = Number(value);
    else if (name === 'out') out = value ?? usage('--out needs a file');
    else if (name === 'demo-cases') demoCases = (value ?? '').split(',').map((n) => Number(n) - 1);
    else if (name === 'demo-bare') demoBare = true;
    else if (name === 'hold-sizes') holdSizes = (value ?? '').split(',').map(count);
    else if (name === 'hold-conntrack-buckets') holdBuckets = count(value ?? '');
    else usage();
  }
  if (reps !== undefined && (!Number.isInteger(reps) || reps < 1 || reps > 15)) usage('--reps must be 1..15');
  if (demoCases?.some((n) => !Number.isInteger(n) || n < 0)) usage('--demo-cases takes case numbers from 1, comma-separated');
  if (!holdSizes.length || holdSizes.some((n) => !Number.isInteger(n) || n < 1000 || n > 2_000_000))
    usage('--hold-sizes takes counts of 1000 to 2,000,000 connections, comma-separated (10000, 10k, 1M)');
  if (holdBuckets !== undefined && !(Number.isInteger(holdBuckets) && holdBuckets >= 1024 && holdBuckets <= 16_000_000))
    usage('--hold-conntrack-buckets takes 1024 to 16M');
  return {
    parts: (only ?? [...DEFAULT_PARTS]).filter((p) => !skip.includes(p)),
    quick,
    reps: reps ?? (quick ? 1 : 3),
    out,
    maxWaitS,
    demoCases,
    demoBare,
    holdSizes,
    ...(holdBuckets && { holdBuckets }),
  };
}

/** "10000", "10k" or "1M"; NaN when it is none of those. */
function count(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) return NaN;
  const unit = { '': 1, k: 1e3, m: 1e6 }[m[2]!.toLowerCase() as '' | 'k' | 'm'];
  return Math.round(Number(m[1]) * unit);
}

/** --only's or --skip's comma-separated parts, each one of PARTS. */
function partList(text: string | undefined): Part[] {
  const names = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (bad.length || !names.length) usage(`unknown part(s) '${bad.join(',') || text}': choose from ${PARTS.join(', ')}`);
  return names as Part[];
}

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(
    `usage: npm run bench -- [--only ${PARTS.join(',')}] [--skip ...] [--quick] [--reps N] [--max-wait S] [--out file.json] [--demo-cases 1,3] [--demo-bare] [--hold-sizes 10k,100k,300k,1M] [--hold-conntrack-buckets 4M]`,
  );
  process.exit(message ? 2 : 0);
}
