import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';
import { InputError } from '../errors.ts';
import type { Scenario } from './types.ts';
import { validateScenario } from './validate.ts';

/** How long a scenario's top level may take, in seconds (LAB_LOAD_TIMEOUT_SECONDS overrides it, for tests). */
export const LOAD_TIMEOUT_SECONDS = 20;
export const LOAD_TIMEOUT_ENV = 'LAB_LOAD_TIMEOUT_SECONDS';

/** Loads a scenario module from any path and validates it; every failure names the file. */
export async function loadScenario(file: string): Promise<Scenario> {
  const path = resolve(file);
  await checkReadable(path, file);
  // A top level that never returns (`while (true) {}`) would hang this thread for good: it is run first in a
  // worker, which is stopped when it takes too long; only a module that finished there is imported here.
  await trialLoad(pathToFileURL(path).href, file);
  let module: { default?: unknown };
  try {
    module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    const first = String((error as Error).message ?? error).split('\n').find((l) => l.trim()) ?? 'unknown error';
    throw new InputError(file, undefined, `cannot be loaded: ${first.trim()}`);
  }
  const exported = defaultExport(module);
  if (exported === undefined) throw new InputError(file, undefined, 'has no default export (export default defineScenario({...}))');
  return validateScenario(exported, file);
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
const api = import(workerData.tsx);
parentPort.on('message', ({ id, url }) => {
  api.then(({ tsImport }) => tsImport(url, workerData.parent)).then(
    () => parentPort.postMessage({ id, loaded: true }),
    () => parentPort.postMessage({ id, loaded: false }),
  );
});
`;

interface Trial {
  worker: Worker;
  pending: Map<number, (outcome: 'loaded' | 'failed' | 'exited') => void>;
}

let trial: Trial | undefined;
let nextId = 0;
/** One file at a time: a file that hangs the worker must not be blamed on another waiting behind it. */
let queue: Promise<void> = Promise.resolve();

function trialWorker(): Trial {
  if (trial) return trial;
  const worker = new Worker(TRIAL_WORKER, {
    eval: true,
    workerData: { tsx: import.meta.resolve('tsx/esm/api'), parent: import.meta.url },
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  worker.unref();
  const started: Trial = { worker, pending: new Map() };
  worker.on('message', ({ id, loaded }: { id: number; loaded: boolean }) => started.pending.get(id)?.(loaded ? 'loaded' : 'failed'));
  const gone = () => {
    if (trial === started) trial = undefined;
    for (const settle of started.pending.values()) settle('exited');
  };
  worker.on('exit', gone).on('error', gone);
  trial = started;
  return started;
}

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
  const outcome = await new Promise<'loaded' | 'failed' | 'exited' | 'late'>((settle) => {
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
  // 'failed': the import here fails the same way, and says why in the usual words.
}
