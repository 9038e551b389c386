/**
 * What the judging worker (judge-worker.ts) and the run (judge.ts) say to each other, and what both do with
 * it: the theory's context as data that crosses threads (a kernel as its release strings, rebuilt with
 * kernelRelease on the other side), and the judging of one case, one expectation after another.
 */
import type { ExpectationResult, HostResult } from '../results/results.ts';
import { kernelRelease } from '../scenario/theory/kernel.ts';
import type { ClientTheory, Expectation, TheoryContext } from '../scenario/types.ts';
import { evaluate, predictionProblem } from './evaluate.ts';

/** A kernel as `uname -r` and `uname -v` gave it. */
export interface KernelSource {
  release: string;
  version?: string;
}

/** The theory's context with its kernels as strings: nothing in it is a function. */
export type TheoryData = Omit<TheoryContext, 'kernel' | 'clients' | 'client'> & {
  kernel: KernelSource;
  clients: ReadonlyArray<Omit<ClientTheory, 'kernel'> & { kernel?: KernelSource }>;
};

export function theoryOf(data: TheoryData): Omit<TheoryContext, 'client'> {
  const kernel = (k: KernelSource) => kernelRelease(k.release, k.version);
  return {
    ...data,
    kernel: kernel(data.kernel),
    clients: data.clients.map(({ kernel: own, ...client }): ClientTheory => ({ ...client, ...(own && { kernel: kernel(own) }) })),
  };
}

/** The theory's context as data, its kernels given as the strings they were made from. */
export function theoryData(
  context: Omit<TheoryContext, 'client'>,
  kernel: KernelSource,
  clientKernels: ReadonlyArray<KernelSource | undefined> = [],
): TheoryData {
  return {
    ...context,
    kernel,
    clients: context.clients.map(({ kernel: _made, ...client }, i) => ({ ...client, ...(clientKernels[i] && { kernel: clientKernels[i] }) })),
  };
}

/** An expectation as the run planned it, to tell that the worker's file still holds the same ones. */
export type ExpectationSignature = Pick<Expectation, 'claim' | 'subject' | 'metric'>;

export const signatureOf = ({ claim, subject, metric }: ExpectationSignature): ExpectationSignature => ({ claim, subject, metric });

/**
 * check: each expectation's predict() on the planned context (checkPredictions); judge: on what the run
 * measured, against the hosts' figures (evaluate).
 */
export type JudgeRequest = { id: number; caseIndex: number; expected: ExpectationSignature[]; context: TheoryData } & (
  { kind: 'check' } | { kind: 'judge'; server: HostResult; clients: HostResult[]; middle?: HostResult }
);

/** Which scenario file to load: the first message a worker gets, once the run knows it. */
export interface JudgeLoad {
  file: string;
}

/**
 * ready: the scenario file is loaded. done (after one 'expectation' per expectation, in order): the request
 * is answered; problem: the planning check refused an expectation; failed: nothing could be judged, and why.
 */
export type JudgeReply =
  | { type: 'ready' }
  | { type: 'expectation'; id: number; index: number; rows: ExpectationResult[] }
  | { type: 'done'; id: number; problem?: { index: number; reason: string }; failed?: string };

/** The scenario's expectations for one case, as planCase lists them: the scenario's own, then the case's. */
export function caseExpectations(
  scenario: { expect?: readonly Expectation[] | undefined; cases: ReadonlyArray<{ expect?: readonly Expectation[] | undefined }> },
  caseIndex: number,
): Expectation[] {
  return [...(scenario.expect ?? []), ...(scenario.cases[caseIndex]?.expect ?? [])];
}

/** Answers a request with the scenario's own expectations, one message per expectation as it is done. */
export function answer(expectations: readonly Expectation[], request: JudgeRequest, say: (reply: JudgeReply) => void): void {
  const { id } = request;
  const same = expectations.length === request.expected.length && expectations.every((e, i) => sameSignature(e, request.expected[i]!));
  if (!same) return say({ type: 'done', id, failed: 'the scenario file changed during the run: its expectations are not the ones the run planned' });
  const context = theoryOf(request.context);
  for (const [index, e] of expectations.entries()) {
    if (request.kind === 'check') {
      const reason = predictionProblem(e, context);
      if (reason) return say({ type: 'done', id, problem: { index, reason } });
      say({ type: 'expectation', id, index, rows: [] });
    } else {
      say({ type: 'expectation', id, index, rows: evaluate([e], context, request.server, request.clients, request.middle).map(plainRow) });
    }
  }
  say({ type: 'done', id });
}

function sameSignature(e: ExpectationSignature, planned: ExpectationSignature): boolean {
  return e.claim === planned.claim && e.subject === planned.subject && e.metric === planned.metric;
}

/** A row as data: the prediction's own fields only (predict() may return an object with more, functions even). */
function plainRow(row: ExpectationResult): ExpectationResult {
  const p = row.predicted as ExpectationResult['predicted'] & Record<string, unknown>;
  const predicted = {
    min: Number(p.min),
    max: Number(p.max),
    ...(typeof p.why === 'string' && { why: p.why }),
    ...(p.doesNotApply === true && { doesNotApply: true as const }),
  };
  const { notApplicable, ...rest } = row;
  return { ...rest, predicted, ...(notApplicable !== undefined && { notApplicable: String(notApplicable) }) };
}
