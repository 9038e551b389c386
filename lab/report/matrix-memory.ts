/**
 * The matrix's memory per connection by kernel: for each case that measured kernel memory, what a connection
 * cost on each kernel (per end from the hosts' own memory cgroups where the runtime gives them one, both ends
 * from the machine's slab) against the theory; the object size of each slab cache the theory names, per
 * kernel; and every change of those from one kernel to the next, named.
 */
import type { ComparedRun } from '../results/runs.ts';
import type { CaseResult, ExpectationResult, SlabCacheSize } from '../results/results.ts';
import { paletteColor } from './colors.ts';
import { expectationVerdict, formatCount, predictionText } from './facts.ts';
import type { Matrix, MatrixBlock } from './matrix-model.ts';
import { matrixColumn } from './matrix-columns.ts';
import { caseIn } from './matrix-charts.ts';
import { groupedBarChart, type BarGroup } from './svg-bars.ts';

/** The figures of one connection the table and chart show, each an expectation's metric and host. */
const FIGURES = [
  { label: 'client end (own cgroup)', metric: 'memory.cgroupBytesPerConnection', role: 'client' },
  { label: 'server end (own cgroup)', metric: 'memory.cgroupBytesPerConnection', role: 'server' },
  { label: 'both ends (slab, host-wide)', metric: 'memory.slabBytesPerConnection', role: 'server' },
] as const;
type Figure = (typeof FIGURES)[number];

type MatrixScenario = Matrix['scenarios'][number];

/** Bytes per connection by kernel, object sizes by kernel, and what changed between kernels; nothing where no case measured memory. */
export function memoryByKernelBlocks(matrix: Matrix): MatrixBlock[] {
  const measured = matrix.scenarios.flatMap((s) => memoryCases(s).map((caseName) => ({ s, caseName })));
  if (!measured.length) return [];
  const k = matrix.kernels;
  return [
    { heading: 'Bytes per connection by kernel', level: 2 },
    {
      text: "Kernel memory one connection costs on each kernel: per end, what the host's own memory cgroup was charged (n/a on a runtime whose hosts have none of their own: a VM's namespaces); both ends, how the machine's slab caches grew (with conntrack's entries where connections are tracked). Measured (predicted) verdict.",
    },
    ...measured.flatMap(({ s, caseName }): MatrixBlock[] => [
      { heading: `${s.name}: ${caseName}`, level: 3 },
      { chart: bytesPerConnectionChart(s, caseName, k) },
      { table: bytesPerConnectionTable(s, caseName, k) },
    ]),
    ...objectSizeBlocks(matrix),
  ];
}

/** The cases of a scenario that measured kernel memory per connection on some kernel. */
function memoryCases(s: MatrixScenario): string[] {
  const names = [...new Set(s.runs.flatMap((r) => r?.results.cases.map((c) => c.name) ?? []))];
  return names.filter((name) => s.runs.some((r) => caseIn(r, name)?.expectations.some((e) => FIGURES.some((f) => f.metric === e.metric))));
}

/** The case's rows for one figure: the server's, or each client's. */
function figureRows(c: CaseResult | undefined, figure: Figure): ExpectationResult[] {
  if (!c) return [];
  const hosts = new Set(c.hosts.filter((h) => h.role === figure.role).map((h) => h.name));
  return c.expectations.filter((e) => e.metric === figure.metric && hosts.has(e.host));
}

/** One figure on one kernel: the mean of its hosts' measurements, with the first row's prediction and the worst verdict. */
function figureOn(c: CaseResult | undefined, figure: Figure): { value?: number; text: string } | undefined {
  const rows = figureRows(c, figure);
  if (!rows.length) return undefined;
  const odd = rows.find((e) => e.notApplicable || e.invalid || !e.pass);
  // The section's text says why a runtime cannot measure it: once there, not in every cell.
  if (odd?.notApplicable?.includes('this runtime')) return { text: 'n/a on this runtime' };
  if (odd && (odd.notApplicable || odd.invalid)) return { text: expectationVerdict(odd) };
  const value = Math.round(rows.reduce((sum, e) => sum + e.measured, 0) / rows.length);
  return { value, text: `${formatCount(value)} B (${predictionText(rows[0]!.predicted)}) ${expectationVerdict(odd ?? rows[0]!)}` };
}

function bytesPerConnectionTable(s: MatrixScenario, caseName: string, kernels: string[]): string[][] {
  const figures = FIGURES.filter((f) => s.runs.some((r) => figureRows(caseIn(r, caseName), f).length));
  return [
    ['kernel', ...figures.map((f) => f.label), 'kernel memory, host-wide (slab and TCP pages)', 'socket object (slab size)'],
    ...kernels.flatMap((kernel, i) => {
      const c = caseIn(s.runs[i], caseName);
      if (!c) return [];
      const sizes = c.memory?.slabCacheSizes ?? [];
      const socket = sizes.filter((z) => z.cache === 'TCP' || z.cache === 'TCPv6').map((z) => `${z.cache} ${formatCount(z.slabSize)} B`);
      return [
        [
          kernel,
          ...figures.map((f) => figureOn(c, f)?.text ?? '-'),
          c.memory && !c.memory.hostWideNotMeasured ? `${formatCount(c.memory.kernelBytesPerConnection)} B` : '-',
          socket.join(', ') || '-',
        ],
      ];
    }),
  ];
}

/** One group per figure measured on some kernel, one bar per kernel in its colour, against the predicted band. */
function bytesPerConnectionChart(s: MatrixScenario, caseName: string, kernels: string[]): string {
  const groups = FIGURES.flatMap((figure): BarGroup[] => {
    if (!s.runs.some((r) => figureRows(caseIn(r, caseName), figure).length)) return [];
    const bars = kernels.flatMap((kernel, i) => {
      const run = s.runs[i];
      if (!run) return [];
      const c = caseIn(run, caseName);
      const shown = figureOn(c, figure);
      const band = figureRows(c, figure).find((e) => Number.isFinite(e.predicted.min))?.predicted;
      return [
        {
          label: kernel,
          color: paletteColor(i),
          ...(shown?.value !== undefined ? { value: shown.value } : { missing: shown?.text ?? 'case not run' }),
          ...(band && { band: { min: band.min, max: band.max } }),
        },
      ];
    });
    return [{ label: figure.label, bars }];
  });
  return groupedBarChart({
    colourPer: 'kernel',
    kind: 'memory-by-kernel',
    title: `${s.name}: ${caseName}: bytes per connection by kernel`,
    groups,
    bandLabel: 'predicted',
    formatValue: (bytes) => `${formatCount(Math.round(bytes))} B`,
    axisUnit: 'B',
  });
}

/** Each kernel's slab cache sizes, from the first of its runs that read them. */
function sizesByKernel(matrix: Matrix): Array<Map<string, SlabCacheSize> | undefined> {
  return matrix.kernels.map((kernel) => {
    const runs = matrix.scenarios.flatMap((s) => s.runs).filter((r): r is ComparedRun => !!r && matrixColumn(r.results, matrix.byCpus) === kernel);
    const sizes = runs.flatMap((r) => r.results.cases).find((c) => c.memory?.slabCacheSizes?.length)?.memory?.slabCacheSizes;
    return sizes && new Map(sizes.map((z) => [z.cache, z]));
  });
}

/** The runtime each kernel's runs ran on ('vm', 'docker'). */
function runtimeByKernel(matrix: Matrix): Array<string | undefined> {
  const runs = matrix.scenarios.flatMap((s) => s.runs);
  return matrix.kernels.map((kernel) => runs.find((r) => r && matrixColumn(r.results, matrix.byCpus) === kernel)?.results.environment.runtime);
}

/** "2,368 B (slab 2,432 B)"; "128 B (merged into :A-0000128)". */
function sizeText(z: SlabCacheSize | undefined): string {
  if (!z) return '-';
  const slab = z.slabSize === z.objectSize ? '' : `slab ${formatCount(z.slabSize)} B`;
  const merged = z.mergedInto ? `merged into ${z.mergedInto}` : '';
  const notes = [slab, merged].filter(Boolean).join(', ');
  return `${formatCount(z.objectSize)} B${notes ? ` (${notes})` : ''}`;
}

function signed(n: number): string {
  return `${n > 0 ? '+' : n < 0 ? '−' : '±'}${formatCount(Math.abs(n))} B`;
}

/**
 * What changed in one cache between two kernels: its object (the struct as compiled) and what each takes in
 * its slab. A slab size that moves apart from its object's is the allocator's doing (alignment, a free
 * pointer kept outside the object or moved into it), not the struct's.
 */
export function sizeChange(cache: string, before: SlabCacheSize, after: SlabCacheSize): string | undefined {
  if (before.objectSize === after.objectSize && before.slabSize === after.slabSize) return undefined;
  const object = `object ${formatCount(before.objectSize)} → ${formatCount(after.objectSize)} B (${signed(after.objectSize - before.objectSize)})`;
  const slab = `slab ${formatCount(before.slabSize)} → ${formatCount(after.slabSize)} B (${signed(after.slabSize - before.slabSize)})`;
  const [was, now] = [before.slabSize - before.objectSize, after.slabSize - after.objectSize];
  const allocator = was === now ? '' : `; beyond the object: ${formatCount(was)} → ${formatCount(now)} B`;
  return `${cache}: ${object}, ${slab}${allocator}`;
}

function objectSizeBlocks(matrix: Matrix): MatrixBlock[] {
  const sizes = sizesByKernel(matrix);
  const caches = [...new Set(sizes.flatMap((m) => [...(m?.keys() ?? [])]))];
  if (!caches.length) return [];
  // Kernels of one runtime are one distribution's builds (Debian's in VMs); this machine's own kernel has its own config.
  const runtimes = runtimeByKernel(matrix);
  const changes = matrix.kernels.flatMap((kernel, i) => {
    const j = matrix.kernels.findIndex((k, at) => at > i && runtimes[at] === runtimes[i] && sizes[at]);
    const [before, after] = [sizes[i], sizes[j]];
    if (j < 0 || !before || !after) return [];
    const named = caches.flatMap((cache) => {
      const [b, a] = [before.get(cache), after.get(cache)];
      return b && a ? [sizeChange(cache, b, a)].filter((x): x is string => !!x) : [];
    });
    return [[`${kernel} → ${matrix.kernels[j]}`, named.join('; ') || 'no change']];
  });
  return [
    { heading: 'Slab object sizes by kernel', level: 3 },
    {
      text: "Each cache the memory theory names, read inside the hosts (/sys/kernel/slab/<cache>): object_size, sizeof the struct as this kernel's config compiled it; slab_size where it differs, what one object takes in its slab (aligned, with the allocator's free pointer where it sits outside the object). The theory counts slab sizes.",
    },
    { table: [['cache', ...matrix.kernels], ...caches.map((cache) => [cache, ...sizes.map((m) => sizeText(m?.get(cache)))])] },
    { heading: 'What changed from one kernel to the next', level: 3 },
    {
      text: "Between kernels of one runtime (the VMs boot one distribution's builds), each in turn: a change of object size is the struct as the version and its config compile it; one of slab size alone is the allocator's. docs/kernels.md says which commits and options explain the TCP objects.",
    },
    { table: [['kernels', 'slab caches'], ...changes] },
  ];
}
