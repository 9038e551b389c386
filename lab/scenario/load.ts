import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { InputError } from '../errors.ts';
import type { Scenario } from './types.ts';
import { validateScenario } from './validate.ts';

/** Loads a scenario module from any path and validates it; every failure names the file. */
export async function loadScenario(file: string): Promise<Scenario> {
  const path = resolve(file);
  try {
    await access(path);
  } catch {
    throw new InputError(file, undefined, 'no such scenario file');
  }
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

/** A .ts file outside an ESM package is compiled as CommonJS: its default export then sits one level down. */
function defaultExport(module: { default?: unknown }): unknown {
  const value = module.default as { __esModule?: boolean; default?: unknown } | undefined;
  if (value && typeof value === 'object' && value.__esModule) return value.default;
  return value;
}
