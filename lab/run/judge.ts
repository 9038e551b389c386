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
import { signatureOf, theoryOf, type JudgeReply, type JudgeRequest, type TheoryData } from './judging.ts';

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
}

export class Judge {
  /** The scenario's file, which the worker loads; none for a scenario made in code. */
  readonly file: string | undefined;
  private thread?: JudgeThread;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;

  constructor(
    scenario: Scenario,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.file = sourceOf(scenario);
  }

  /** Starts the worker now, so that its start (tsx, the lab, the scenario: about 0.2 s) overlaps the run's. */
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
    if (!this.file) return checkPredictions({ expectations: [...expectations] }, theoryOf(context), file, fieldOf);
    const what = `case ${caseIndex + 1}: trying each predict() on the plan`;
    const answer = await this.ask({ kind: 'check', caseIndex, context }, expectations, what, signal);
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
  ): Promise<ExpectationResult[]> {
    if (!this.file) return evaluate(expectations, theoryOf(context), server, clients);
    const what = `case ${caseIndex + 1}: judging`;
    const answer = await this.ask({ kind: 'judge', caseIndex, context, server, clients: [...clients] }, expectations, what, signal);
    const names = context.clients.map((c) => c.name);
    const why = whyNotJudged(answer, judgeTimeoutMs() / 1000);
    return expectations.flatMap((e, index) => answer.rows[index] ?? unjudgedRows(e, server.name, names, why(index)));
  }

  /** Stops the worker, whatever it is doing. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    await thread?.worker.terminate();
  }

  private threadNow(): JudgeThread {
    if (!this.thread || this.thread.ended) this.thread = new JudgeThread(this.file!);
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
 * Starts tsx in the worker, then the worker's module (judge-worker.ts), which loads the scenario. A worker
 * that cannot even start says so, rather than leave every request to the time limit.
 */
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx)
  .then(({ register }) => register({ namespace: 'lab-judge' }))
  .then((tsx) => tsx.import(workerData.entry, workerData.parent))
  .catch((error) => parentPort.postMessage({ type: 'broken', message: String((error && error.message) || error).split('\\n')[0] }));
`;

class JudgeThread {
  readonly worker: Worker;
  ready = false;
  /** Why it ended, once it has. */
  ended?: string;
  /** Stopped on purpose (a time limit, a signal). */
  stopped = false;
  private readonly listeners = new Map<number, Listener>();

  constructor(file: string) {
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: { tsx: tsxEsmApi(), entry: new URL('./judge-worker.ts', import.meta.url).href, parent: import.meta.url, file },
    });
    // It never holds the process open between requests.
    this.worker.unref();
    this.worker.on('message', (message: JudgeReply | { type: 'broken'; message: string }) => {
      if (message.type === 'ready') this.ready = true;
      else if (message.type === 'broken') {
        this.end(`the judging thread could not start: ${message.message}`);
        void this.worker.terminate();
      } else this.listeners.get(message.id)?.reply(message);
    });
    this.worker.on('error', (error) => this.end(`the judging thread failed: ${error.message.split('\n')[0]}`));
    this.worker.on('exit', (code) =>
      this.end(
        this.stopped ? 'the judging thread was stopped' : `the judging thread ended (exit code ${code}): does a predict() call process.exit()?`,
      ),
    );
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
