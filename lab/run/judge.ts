/**
 * Judging, bounded in time. predict() is the scenario's own code, called twice: on the plan before anything
 * starts, and on what the run measured. One that never returns (a synchronous loop) would hold the lab's
 * thread for good, where no signal reaches it: the lab would sit in Collect with its hosts up, deaf to
 * SIGINT and SIGTERM. So a scenario loaded from a file is judged in a worker thread that loads the file
 * itself (judge-worker.ts), as the trial load does its top level (lab/scenario/load.ts). Each request has a
 * time limit; past it the worker is stopped, the rows not judged are INVALID saying why, and the run goes on
 * to tear down. A signal stops the worker at once. A scenario made in code (tests, the API) is judged here:
 * its predict() is its caller's own.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, Interrupted } from '../errors.ts';
import type { ExpectationResult, HostResult } from '../results/results.ts';
import { sourceOf } from '../scenario/source.ts';
import type { Expectation, Scenario } from '../scenario/types.ts';
import { checkPredictions, evaluate, unjudgedRows } from './evaluate.ts';
import { signatureOf, theoryOf, type JudgeLoad, type JudgeReply, type JudgeRequest, type TheoryData } from './judging.ts';

/** How long the predictions of one case may take, in seconds (LAB_JUDGE_TIMEOUT_SECONDS overrides it, for tests). */
export const JUDGE_TIMEOUT_SECONDS = 10;
export const JUDGE_TIMEOUT_ENV = 'LAB_JUDGE_TIMEOUT_SECONDS';
/** Judging that takes longer than this is said, so that nobody wonders why the case sits in Collect. */
const SLOW_MS = 2000;

export function judgeTimeoutMs(): number {
  const raw = process.env[JUDGE_TIMEOUT_ENV];
  const seconds = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : JUDGE_TIMEOUT_SECONDS) * 1000;
}

/** What came back for one request: rows per expectation, in order, as far as they came. */
interface Answer {
  rows: ExpectationResult[][];
  /** The planning check refused this expectation. */
  problem?: { index: number; reason: string };
  /** Nothing more could be judged, and why (the file changed, the worker ended). */
  failed?: string;
  /** The time limit passed first. */
  late?: boolean;
  /** Whether the worker had loaded the scenario file by the end. */
  loaded: boolean;
  /** No worker can run here (it could not start tsx), and why: nothing of the scenario's is to blame. */
  unavailable?: string;
}

export class Judge {
  /** The scenario's file, which the worker loads; none for a scenario made in code. */
  readonly file: string | undefined;
  private thread?: JudgeThread;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  /** Why no worker can run here, once one could not start: then predict() runs on this thread, as it always did. */
  private unavailable?: string;

  constructor(
    scenario: Scenario,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.file = sourceOf(scenario);
  }

  /** Starts the worker on the scenario now, so that its start (tsx, the lab, the file) overlaps the run's. */
  warm(): void {
    if (this.file) this.threadNow();
  }

  /**
   * Each expectation's predict() on the planned context (see checkPredictions): refused with an InputError
   * naming its field when it throws, returns no prediction, or does not return within the limit.
   */
  async check(
    caseIndex: number,
    expectations: readonly Expectation[],
    context: TheoryData,
    file: string,
    fieldOf: (index: number) => string,
    signal?: AbortSignal,
  ): Promise<void> {
    const here = () => checkPredictions({ expectations: [...expectations] }, theoryOf(context), file, fieldOf);
    if (!this.bounded()) return here();
    const what = `case ${caseIndex + 1}: trying each predict() on the plan`;
    const answer = await this.ask({ kind: 'check', caseIndex, context }, expectations, what, signal);
    if (answer.unavailable) return this.withoutWorker(answer.unavailable, here);
    const seconds = judgeTimeoutMs() / 1000;
    if (answer.problem) throw new InputError(file, fieldOf(answer.problem.index), answer.problem.reason);
    if (answer.late && !answer.loaded) throw new InputError(file, undefined, `did not load again within ${seconds} s to try its predictions`);
    if (answer.late)
      throw new InputError(
        file,
        fieldOf(answer.rows.length),
        `predict() did not return within ${seconds} s, tried on the plan before anything started`,
      );
    if (answer.failed) throw new InputError(file, undefined, `could not try its predictions: ${answer.failed}`);
  }

  /** The case's rows: every expectation's prediction on what was measured, set against the figures. */
  async judge(
    caseIndex: number,
    expectations: readonly Expectation[],
    context: TheoryData,
    server: HostResult,
    clients: readonly HostResult[],
    signal?: AbortSignal,
    middle?: HostResult,
  ): Promise<ExpectationResult[]> {
    const here = () => evaluate(expectations, theoryOf(context), server, clients, middle);
    if (!this.bounded()) return here();
    const what = `case ${caseIndex + 1}: judging`;
    const answer = await this.ask(
      { kind: 'judge', caseIndex, context, server, clients: [...clients], ...(middle && { middle }) },
      expectations,
      what,
      signal,
    );
    if (answer.unavailable) return this.withoutWorker(answer.unavailable, here);
    const names = context.clients.map((c) => c.name);
    const why = whyNotJudged(answer, judgeTimeoutMs() / 1000);
    return expectations.flatMap((e, index) => answer.rows[index] ?? unjudgedRows(e, server.name, names, why(index), middle?.name));
  }

  /** Stops the worker, whatever it is doing. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    await thread?.worker.terminate();
  }

  private bounded(): boolean {
    return !!this.file && !this.unavailable;
  }

  /** As the trial load does when it has no worker (lab/scenario/load.ts): on this thread, said once. */
  private withoutWorker<T>(why: string, here: () => T): T {
    if (!this.unavailable) this.log(`judging without a time limit: ${why}; predict() runs on the lab's own thread`);
    this.unavailable = why;
    return here();
  }

  private threadNow(): JudgeThread {
    if (!this.thread || this.thread.ended) this.thread = JudgeThread.on(this.file!);
    return this.thread;
  }

  private stop(thread: JudgeThread): void {
    if (this.thread === thread) this.thread = undefined;
    thread.stopped = true;
    void thread.worker.terminate();
  }

  /** One request at a time: a request that hangs the worker must not be blamed on one waiting behind it. */
  private ask(
    request: DistributiveOmit<JudgeRequest, 'id' | 'expected'>,
    expectations: readonly Expectation[],
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const turn = this.queue.then(() => this.askNow(request, expectations, what, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private askNow(
    request: DistributiveOmit<JudgeRequest, 'id' | 'expected'>,
    expectations: readonly Expectation[],
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    if (signal?.aborted) return Promise.reject(new Interrupted(signal.reason as NodeJS.Signals));
    const thread = this.threadNow();
    const id = this.nextId++;
    const limitMs = judgeTimeoutMs();
    const answer: Answer = { rows: [], loaded: thread.ready };
    return new Promise<Answer>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      let settled = false;
      const settle = (end: () => void) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        signal?.removeEventListener('abort', onAbort);
        thread.forget(id);
        thread.worker.unref();
        answer.loaded = thread.ready;
        end();
      };
      const onAbort = () => {
        this.stop(thread);
        settle(() => reject(new Interrupted(signal!.reason as NodeJS.Signals)));
      };
      thread.listen(id, {
        reply: (reply) => {
          if (reply.type === 'expectation') answer.rows[reply.index] = reply.rows;
          if (reply.type !== 'done') return;
          if (reply.problem) answer.problem = reply.problem;
          if (reply.failed) answer.failed = reply.failed;
          settle(() => resolve(answer));
        },
        ended: (why) => {
          if (thread.broken) answer.unavailable = thread.broken;
          answer.failed ??= why;
          settle(() => resolve(answer));
        },
      });
      timers.push(
        setTimeout(() => {
          answer.late = true;
          answer.loaded = thread.ready;
          this.stop(thread);
          settle(() => resolve(answer));
        }, limitMs),
      );
      if (limitMs > SLOW_MS) {
        const said = `${what}: a predict() has not returned for ${SLOW_MS / 1000} s; it is stopped at ${limitMs / 1000} s (${JUDGE_TIMEOUT_ENV})`;
        timers.push(setTimeout(() => this.log(said), SLOW_MS));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      thread.worker.ref();
      thread.worker.postMessage({ ...request, id, expected: expectations.map(signatureOf) } satisfies JudgeRequest);
    });
  }
}

/** Why each expectation that has no rows was not judged. */
function whyNotJudged(answer: Answer, seconds: number): (index: number) => string {
  const hung = answer.rows.length;
  return (index) => {
    if (!answer.late) return `not judged: ${answer.failed ?? 'no answer'}`;
    if (!answer.loaded) return `not judged: the scenario file did not load again within ${seconds} s`;
    return index === hung
      ? `predict() did not return within ${seconds} s`
      : `not judged: an earlier expectation's predict() did not return within ${seconds} s`;
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Listener {
  reply(reply: JudgeReply): void;
  ended(why: string): void;
}

/**
 * Starts tsx in the worker, for the whole thread as bin/lab.js does for the lab's (a namespaced tsx fails to
 * import a scenario file outside an ES module package, which is compiled as CommonJS), then the worker's module
 * (judge-worker.ts), which loads the scenario. A worker that cannot even start says so, rather than leave every
 * request to the time limit.
 */
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx)
  .then(({ register }) => register())
  .then(() => import(workerData.entry))
  .catch((error) => parentPort.postMessage({ type: 'broken', message: String((error && error.message) || error).split('\\n')[0] }));
`;

class JudgeThread {
  /** One started ahead, before any run knows its file (see the end of this module). */
  private static spare?: JudgeThread;

  static startSpare(): void {
    if (!JudgeThread.spare || JudgeThread.spare.ended) JudgeThread.spare = new JudgeThread();
  }

  /** A thread loading the file: the one started ahead when there is one, else a new one. */
  static on(file: string): JudgeThread {
    const spare = JudgeThread.spare;
    JudgeThread.spare = undefined;
    const thread = spare && !spare.ended ? spare : new JudgeThread();
    thread.worker.postMessage({ file } satisfies JudgeLoad);
    return thread;
  }

  readonly worker: Worker;
  ready = false;
  /** Why it ended, once it has. */
  ended?: string;
  /** Stopped on purpose (a time limit, a signal). */
  stopped = false;
  /** It could not start tsx and the lab (an odd install), and why. */
  broken?: string;
  private readonly listeners = new Map<number, Listener>();

  private constructor() {
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: { tsx: tsxEsmApi(), entry: new URL('./judge-worker.ts', import.meta.url).href },
    });
    this.worker.on('message', (message: JudgeReply | { type: 'broken'; message: string }) => {
      if (message.type === 'ready') this.ready = true;
      else if (message.type === 'broken') {
        this.broken = `no worker thread could start tsx here (${message.message})`;
        this.end(this.broken);
        void this.worker.terminate();
      } else this.listeners.get(message.id)?.reply(message);
    });
    this.worker.on('error', (error) => this.end(`the judging thread failed: ${error.message.split('\n')[0]}`));
    this.worker.on('exit', (code) =>
      this.end(
        this.stopped ? 'the judging thread was stopped' : `the judging thread ended (exit code ${code}): does a predict() call process.exit()?`,
      ),
    );
    // It never holds the process open between requests; unref'd after its listeners, which would ref it again.
    this.worker.unref();
  }

  listen(id: number, listener: Listener): void {
    if (this.ended) return listener.ended(this.ended);
    this.listeners.set(id, listener);
  }

  forget(id: number): void {
    this.listeners.delete(id);
  }

  private end(why: string): void {
    this.ended ??= why;
    for (const listener of [...this.listeners.values()]) listener.ended(this.ended);
    this.listeners.clear();
  }
}

/** tsx's ESM API by URL, for the worker (its CommonJS build cannot register hooks). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}

// Started as soon as a command that runs scenarios is imported: tsx and the lab load in it while the command
// loads the scenario, and it is handed the file when the run starts. Idle, it holds nothing open.
JudgeThread.startSpare();
