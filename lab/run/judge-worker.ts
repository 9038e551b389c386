/**
 * The judging worker's thread (judge.ts starts it): loads the scenario file it is given, as the run did, and
 * answers each request with its own expectations' predict(). Whatever a predict() does here, loop forever
 * included, the run's thread stays free: it stops this one when it takes too long or a signal comes.
 */
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { resolveLabImports } from '../scenario/lab-import.ts';
import type { Expectation } from '../scenario/types.ts';
import { answer, caseExpectations, type JudgeLoad, type JudgeReply, type JudgeRequest } from './judging.ts';

type Loaded = { expect?: Expectation[]; cases: Array<{ expect?: Expectation[] }> };

const port = parentPort!;
const say = (reply: JudgeReply) => port.postMessage(reply);

resolveLabImports();
/** The scenario, once the run has said which file (the thread starts before the run knows). */
let scenario: Promise<Loaded> = Promise.reject(new Error('no scenario file was given'));
scenario.catch(() => undefined);

port.on('message', (message: JudgeLoad | JudgeRequest) => {
  if ('file' in message) {
    scenario = load(message.file);
    void scenario.then(
      () => say({ type: 'ready' }),
      () => undefined,
    );
    return;
  }
  const request = message;
  void scenario.then(
    (loaded) => {
      try {
        answer(caseExpectations(loaded, request.caseIndex), request, say);
      } catch (error) {
        say({ type: 'done', id: request.id, failed: `the judging failed: ${messageOf(error)}` });
      }
    },
    (error: unknown) => say({ type: 'done', id: request.id, failed: `the scenario file did not load again: ${messageOf(error)}` }),
  );
});

/** The scenario's default export; what its top level prints was printed when the run loaded it, so not again. */
async function load(file: string): Promise<Loaded> {
  const writes = [process.stdout.write, process.stderr.write];
  const quiet = ((_chunk: unknown, encoding?: unknown, done?: unknown) => {
    const callback = typeof encoding === 'function' ? encoding : done;
    if (typeof callback === 'function') callback();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = process.stderr.write = quiet;
  try {
    const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
    const value = module.default as { __esModule?: boolean; default?: unknown } | undefined;
    const exported = (value && typeof value === 'object' && value.__esModule ? value.default : value) as Partial<Loaded> | undefined;
    if (!exported || !Array.isArray(exported.cases)) throw new Error('its default export is no scenario');
    return exported as Loaded;
  } finally {
    [process.stdout.write, process.stderr.write] = writes as [typeof process.stdout.write, typeof process.stderr.write];
  }
}

function messageOf(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
