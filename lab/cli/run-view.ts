/**
 * The terminal view of a run, a subscriber to its events: the steps and each case's phases as listr2 tasks
 * (a live tree on a terminal, timestamped lines otherwise), the flood's counts per client while it runs.
 * Each task waits for its phase's event; the run itself never waits on the view.
 */
import { Listr, PRESET_TIMER, PRESET_TIMESTAMP, type ListrTaskWrapper } from 'listr2';
import type { CaseInfo, PhaseInfo, RunEvents, RunStep } from '../run/events.ts';
import type { FloodProgress } from '../run/case-run.ts';
import { safeText } from '../report/escape.ts';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
  // Whoever waits on it handles a failure; a task that never started must not leave it unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

// listr2's task wrapper type is generic over its renderers; the view only sets titles and output.
type Task = Pick<ListrTaskWrapper<unknown, never, never>, 'title' | 'output'>;

/** A task shown, waiting for the event that ends it; `task` is there once listr has started it. */
interface PendingTask {
  done: Deferred;
  task?: Task;
}

export function terminalView(tty: boolean): RunEvents {
  const lists = new TaskLists(tty);
  return { ...stepsView(lists), ...casesView(lists, tty), closed: sayWhatTeardownLeft };
}

/** A tree redrawn in place on a terminal, timestamped lines otherwise. */
function listrOptions(tty: boolean) {
  return {
    renderer: tty ? 'default' : 'simple',
    rendererOptions: { collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP },
    fallbackRendererCondition: !tty,
    registerSignalListeners: false,
    exitOnError: true,
  } as const;
}

/** Shows listr task lists, one after another. */
class TaskLists {
  readonly options: ReturnType<typeof listrOptions>;
  private shown: Promise<unknown> = Promise.resolve();

  constructor(tty: boolean) {
    this.options = listrOptions(tty);
  }

  show(listr: { run(): Promise<unknown> }): void {
    this.shown = listr.run().catch(() => undefined);
  }

  /** Once the list shown last has drawn its end. */
  async drawn(): Promise<void> {
    await this.shown;
  }
}

/** The run's steps before its cases: a task each, titled with what it ended with; the runtime's lines as its output. */
function stepsView(lists: TaskLists): Pick<RunEvents, 'log' | 'stepStarted' | 'stepFinished'> {
  const steps = new Map<RunStep, PendingTask>();
  return {
    log(line, step) {
      const task = step && steps.get(step)?.task;
      if (task) task.output = safeText(line);
      else process.stdout.write(`lab: ${safeText(line)}\n`);
    },
    stepStarted(step, title) {
      const entry: PendingTask = { done: deferred() };
      steps.set(step, entry);
      lists.show(new Listr([{ title: safeText(title), task: async (_, task) => ((entry.task = task), entry.done.promise) }], lists.options));
    },
    async stepFinished(step, { title, error }) {
      const entry = steps.get(step)!;
      if (entry.task && !error) entry.task.title = safeText(title);
      if (error) entry.done.reject(error);
      else entry.done.resolve();
      await lists.drawn();
    },
  };
}

/** Each case: a task with a subtask per phase, titled with the verdict once collected; the flood's counts under its phase. */
function casesView(lists: TaskLists, tty: boolean): Pick<RunEvents, 'caseStarting' | 'phaseFinished' | 'progress' | 'caseFinished'> {
  let phases = new Map<string, PendingTask>();
  let caseTask: Task | undefined;
  let floodText = '';

  return {
    caseStarting(info) {
      phases = new Map(info.phases.map((p) => [p.name, { done: deferred() }]));
      floodText = '';
      lists.show(caseList(info, lists.options, (task) => (caseTask = task), phaseTask));
    },
    phaseFinished(info, phase, { result, error }) {
      const entry = phases.get(phase.name)!;
      if (result && phase.name === 'collect' && caseTask) caseTask.title = `${caseTitle(info)}: ${result.pass ? 'as predicted' : 'NOT as predicted'}`;
      if (error) entry.done.reject(error);
      else entry.done.resolve();
    },
    progress: floodProgress(tty, (text) => (floodText = text)),
    async caseFinished() {
      await lists.drawn();
    },
  };

  /** A phase's task: done when its phase is; the flood's shows the latest counts, redrawn every 250 ms. */
  async function phaseTask(phase: PhaseInfo, task: Task): Promise<void> {
    const entry = phases.get(phase.name)!;
    entry.task = task;
    let last = '';
    const update = () => {
      if (floodText && floodText !== last) task.output = last = floodText;
    };
    const ticker = phase.name === 'flood' ? setInterval(update, 250) : undefined;
    try {
      await entry.done.promise;
    } finally {
      if (ticker) {
        clearInterval(ticker);
        update();
      }
    }
  }
}

/** A case's task and its phases' subtasks; the flood's output keeps a line per client and one for the server. */
function caseList(
  info: CaseInfo,
  options: ReturnType<typeof listrOptions>,
  started: (caseTask: Task) => void,
  phaseTask: (phase: PhaseInfo, task: Task) => Promise<void>,
) {
  return new Listr(
    [
      {
        title: caseTitle(info),
        task: (_, parent) => {
          started(parent);
          return parent.newListr(
            info.phases.map((phase) => ({
              title: safeText(phase.title),
              task: (_ctx: unknown, task: Task) => phaseTask(phase, task),
              ...(phase.name === 'flood'
                ? { rendererOptions: { outputBar: info.plan.clients.length + (info.plan.middle ? 2 : 1), persistentOutput: true } }
                : {}),
            })),
            { exitOnError: true },
          );
        },
      },
    ],
    options,
  );
}

/** The flood's lines for the case under way: a reporter of its own for each case. */
function floodProgress(tty: boolean, show: (text: string) => void): (info: CaseInfo, progress: FloodProgress) => void {
  let reporter: ((p: FloodProgress) => void) | undefined;
  let of: CaseInfo | undefined;
  return (info, progress) => {
    if (of !== info) [of, reporter] = [info, progressReporter(info, show, tty)];
    reporter!(progress);
  };
}

/** After the teardown: what an interrupted run removed, and what the runtime could not remove. */
function sayWhatTeardownLeft(removed: readonly string[], interrupted: boolean, left?: string): void {
  if (interrupted && removed.length) process.stderr.write(`lab: removed ${removed.join(', ')}\n`);
  if (left) process.stderr.write(`lab: ${left}\n`);
}

// A case's name is the scenario's: shown safely (a control character in it must not reach the terminal).
const caseTitle = (info: CaseInfo) => `Case ${info.index + 1}/${info.total}: ${safeText(info.name)}`;

/**
 * Per client: a bar toward its predicted ceiling, the count, the rate and the time left at that rate, errors;
 * then the server's count against the sum of the ceilings. Every 5 s without a terminal.
 */
export function progressReporter(
  info: CaseInfo,
  show: (text: string) => void,
  tty: boolean,
  now: () => number = Date.now,
): (p: FloodProgress) => void {
  const clients = new Map(info.plan.clients.map((c) => [c.name, new FloodRate()]));
  const latest = new Map<string, string>();
  let shownAt = -Infinity;
  let serverText = '';
  const total = Object.values(info.ceilings).reduce((a, b) => a + b, 0);
  const middleText = info.plan.middle && middleTier(info.plan.middle, info.plan.legs);
  return ({ host, line, kernel }) => {
    const at = now();
    if (kernel) {
      // The kernel's own count: shown for the server; a client's program line already says its count.
      if (host !== info.plan.server.name) return;
      serverText = `${host}: ${formatCount(kernel.estab)} established of ${formatCount(total)} (the clients' ceilings; ss -s inside it)`;
    } else {
      const estab = line.established ?? 0;
      const rate = clients.get(host)?.add(at, estab) ?? 0;
      const ceiling = info.ceilings[host] ?? 0;
      // bind() failures apart from connect()'s, as the reports show them: the same errno in both is two figures.
      const errors = [
        ...Object.entries(line.errors ?? {}),
        ...Object.entries(line.bind_errors ?? {}).map(([k, v]): [string, number] => [`bind ${k}`, v]),
      ]
        .map(([k, v]) => `${k} ${formatCount(v)}`)
        .join(', ');
      const left = ceiling > estab && rate > 0 ? `, ~${formatDuration((ceiling - estab) / rate)} left` : '';
      const state = line.type === 'filled' ? 'filled' : `${formatCount(line.inflight ?? 0)} in flight, ${formatCount(Math.round(rate))}/s${left}`;
      latest.set(host, `${host}: ${bar(estab, ceiling)} ${formatCount(estab)}/${formatCount(ceiling)}, ${state}${errors ? `, ${errors}` : ''}`);
    }
    if (!tty && at - shownAt < 5000 && line?.type !== 'filled') return;
    shownAt = at;
    const lines = info.plan.clients.map((c) => latest.get(c.name) ?? `${c.name}: starting`);
    show([...lines, ...(middleText ? [middleText] : []), ...(serverText ? [serverText] : [])].join('\n'));
  };
}

/** The middle tier as its own line: the host, and its two legs (clients -> it, it -> the server). */
export function middleTier(middle: NonNullable<CaseInfo['plan']['middle']>, legs: CaseInfo['plan']['legs']): string {
  const table = middle.nat?.conntrackMax ? `, conntrack table ${middle.nat.conntrackMax}` : '';
  const kind = middle.role === 'gateway' ? `NAT${middle.nat?.randomFully ? ' --random-fully' : ''}${table}` : (middle.proxy?.software ?? 'proxy');
  const onward = legs.find((leg) => leg.from.includes(middle.name));
  const to = onward ? `${onward.to} ${onward.endpoints.join(', ')}` : 'the server';
  return `${middle.name} ${middle.ips.join(', ')} (${kind}): clients -> ${middle.name} -> ${to}`;
}

/**
 * A client's connect rate over the last seconds. Its count arrives in steps (a progress line per 500 ms, the
 * kernel's handshakes in bursts): the window spans several steps, from the oldest reading still in it.
 */
class FloodRate {
  private static readonly WINDOW_MS = 10_000;
  private readonly readings: Array<{ at: number; estab: number }> = [];

  add(at: number, estab: number): number {
    this.readings.push({ at, estab });
    while (this.readings.length > 2 && at - this.readings[1]!.at >= FloodRate.WINDOW_MS) this.readings.shift();
    const first = this.readings[0]!;
    return at > first.at ? ((estab - first.estab) * 1000) / (at - first.at) : 0;
  }
}

const BAR_WIDTH = 20;

function bar(done: number, of: number): string {
  const filled = of > 0 ? Math.min(BAR_WIDTH, Math.round((done / of) * BAR_WIDTH)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
