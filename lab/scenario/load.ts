import { existsSync } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';
import { InputError } from '../errors.ts';
import { resolveLabImports } from './lab-import.ts';
import type { Scenario } from './types.ts';
import { validateScenario } from './validate.ts';
import { rememberSource } from './source.ts';

/** How long a scenario's top level may take, in seconds (LAB_LOAD_TIMEOUT_SECONDS overrides it, for tests). */
export const LOAD_TIMEOUT_SECONDS = 20;
export const LOAD_TIMEOUT_ENV = 'LAB_LOAD_TIMEOUT_SECONDS';

/** Loads a scenario module from any path and validates it; every failure names the file. */
export async function loadScenario(file: string): Promise<Scenario> {
  resolveLabImports();
  const path = resolve(findScenario(file));
  await checkReadable(path, file);
  // A top level that never returns (`while (true) {}`) would hang this thread for good: it is run first in a
  // worker, which is stopped when it takes too long; only a module that finished there is imported here.
  await trialLoad(pathToFileURL(path).href, file);
  let module: { default?: unknown };
  try {
    module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    throw loadFailure(file, error);
  }
  const exported = defaultExport(module);
  if (exported === undefined) throw new NoDefaultExport(file);
  return rememberSource(validateScenario(exported, file), path);
}

/** A module that loaded but exports no scenario: for `lab list`, a helper beside the scenarios, not a broken one. */
export class NoDefaultExport extends InputError {
  constructor(file: string) {
    super(file, undefined, 'has no default export (export default defineScenario({...}))');
    this.name = 'NoDefaultExport';
  }
}

/** The file is there and readable, or an InputError saying why not (missing, a symlink loop, permissions). */
async function checkReadable(path: string, file: string): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) throw new InputError(file, undefined, 'is a folder, not a scenario file');
    await access(path, constants.R_OK);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(file, undefined, accessProblem((error as NodeJS.ErrnoException).code));
  }
}

function accessProblem(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'no such scenario file';
    case 'ELOOP':
      return 'is a symlink loop (it points, through links, back to itself)';
    case 'ENOTDIR':
      return 'no such scenario file (a part of its path is a file, not a folder)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'ENAMETOOLONG':
      return 'cannot be read: the path is too long';
    default:
      return `cannot be read (${code ?? 'unknown error'})`;
  }
}

/** A scenario file compiled as CommonJS (outside an ESM package) has its default export one level down. */
function defaultExport(module: { default?: unknown }): unknown {
  const value = module.default as { __esModule?: boolean; default?: unknown } | undefined;
  if (value && typeof value === 'object' && value.__esModule) return value.default;
  return value;
}

// ---- the trial load, in a worker ----

function loadTimeoutMs(): number {
  const raw = process.env[LOAD_TIMEOUT_ENV];
  const seconds = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : LOAD_TIMEOUT_SECONDS) * 1000;
}

/**
 * The worker imports each file it is sent with tsx, as this thread does, and says when it has. It is kept
 * for the next file (`lab list` loads many: tsx and the lab's API load once), and never holds the process
 * open between loads. Its output is dropped: the import here prints whatever the module prints.
 */
const TRIAL_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// What the module prints, it prints again when imported in the main thread: once is enough.
for (const stream of [process.stdout, process.stderr]) stream.write = (_chunk, encoding, done) => (typeof encoding === 'function' ? encoding() : done?.(), true);
// One tsx namespace for every file, as tsImport has for one: the lab's own modules load once.
const scoped = import(workerData.tsx).then(({ register }) => register({ namespace: 'lab-trial-load' }));
// Ready before the first file comes: the lab's API, which scenarios import. Said, so that a worker that
// could not even start tsx is not taken for a file that ended it.
// 'tcp-limits-lab' resolves to this lab here too, as in the main thread.
const warm = scoped
  .then((tsx) => tsx.import(workerData.labImport, workerData.parent).then((m) => m.resolveLabImports()).then(() => tsx, () => tsx))
  .then((tsx) => tsx.import(workerData.api, workerData.parent).then(() => tsx, () => tsx));
warm.then(() => parentPort.postMessage({ ready: true }), () => parentPort.postMessage({ ready: false }));
parentPort.on('message', ({ id, url }) => {
  warm.then(
    (tsx) => tsx.import(url, workerData.parent).then(() => 'loaded', () => 'failed'),
    () => 'unavailable',
  ).then((outcome) => parentPort.postMessage({ id, outcome }));
});
`;

/** loaded, failed to (the import here says why), cannot tell (no tsx in the worker), or the worker ended. */
type Outcome = 'loaded' | 'failed' | 'unavailable' | 'exited';

interface Trial {
  worker: Worker;
  /** Whether tsx and the lab's API loaded in it: a worker that ends before that says nothing of a file. */
  ready: boolean;
  pending: Map<number, (outcome: Outcome) => void>;
}

let trial: Trial | undefined;
let nextId = 0;
/** One file at a time: a file that hangs the worker must not be blamed on another waiting behind it. */
let queue: Promise<void> = Promise.resolve();

/** tsx's ESM API by URL, for the worker (its CommonJS build cannot register hooks; import.meta.resolve is not everywhere). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}

function trialWorker(): Trial {
  if (trial) return trial;
  const worker = new Worker(TRIAL_WORKER, {
    eval: true,
    workerData: {
      tsx: tsxEsmApi(),
      api: new URL('../index.ts', import.meta.url).href,
      labImport: new URL('./lab-import.ts', import.meta.url).href,
      parent: import.meta.url,
    },
  });
  worker.unref();
  const started: Trial = { worker, ready: false, pending: new Map() };
  worker.on('message', (message: { ready: boolean } | { id: number; outcome: Outcome }) => {
    if ('ready' in message) started.ready = message.ready;
    else started.pending.get(message.id)?.(message.outcome);
  });
  const gone = () => {
    if (trial === started) trial = undefined;
    for (const settle of started.pending.values()) settle(started.ready ? 'exited' : 'unavailable');
  };
  worker.on('exit', gone).on('error', gone);
  trial = started;
  return started;
}

// Started as soon as a command that loads scenarios is imported: its start overlaps the command's own loading.
trialWorker();

function trialLoad(url: string, file: string): Promise<void> {
  const turn = queue.then(() => trialLoadNow(url, file));
  queue = turn.catch(() => undefined);
  return turn;
}

async function trialLoadNow(url: string, file: string): Promise<void> {
  const { worker, pending } = trialWorker();
  const id = nextId++;
  const limit = loadTimeoutMs();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await new Promise<Outcome | 'late'>((settle) => {
    pending.set(id, settle);
    timer = setTimeout(() => settle('late'), limit);
    worker.ref();
    worker.postMessage({ id, url });
  }).finally(() => {
    clearTimeout(timer);
    pending.delete(id);
    worker.unref();
  });
  if (outcome === 'late') {
    await worker.terminate();
    const seconds = limit / 1000;
    throw new InputError(file, undefined, `did not finish loading within ${seconds} s (does its top level loop, or wait, forever?)`);
  }
  if (outcome === 'exited') throw new InputError(file, undefined, 'did not finish loading: its top level ended the process (process.exit?)');
  // 'failed': the import here fails the same way, and says why in the usual words. 'unavailable': the worker
  // could not run tsx here (an odd install): the file is imported without a time limit, as it always was.
}

/**
 * A scenario file, or the name `lab list` prints (64k-myth): a name that is no file here is looked for in
 * ./scenarios/, then in the lab's own scenarios/.
 */
export function findScenario(nameOrFile: string): string {
  if (existsSync(nameOrFile) || !SCENARIO_NAME.test(nameOrFile)) return nameOrFile;
  const candidates = [resolve('scenarios', `${nameOrFile}.ts`), fileURLToPath(new URL(`../../scenarios/${nameOrFile}.ts`, import.meta.url))];
  return candidates.find((c) => existsSync(c)) ?? nameOrFile;
}

const SCENARIO_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Why a file did not load, in one line: a syntax error names its line and column (esbuild's "file:line:col: ERROR: ..."). */
function loadFailure(file: string, error: unknown): InputError {
  const text = String((error as Error)?.message ?? error);
  const located = /^(.*?):(\d+):(\d+): ERROR: (.*)$/m.exec(text);
  if (located) return new InputError(`${file}:${located[2]}:${Number(located[3]) + 1}`, undefined, `cannot be loaded: ${located[4]!.trim()}`);
  const first = text.split('\n').find((l) => l.trim()) ?? 'unknown error';
  return new InputError(file, undefined, `cannot be loaded: ${first.trim()}`);
}
