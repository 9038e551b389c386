/**
 * Checks a loaded scenario before anything starts, against the schema (schema.ts). Every problem is an
 * InputError that names the file and the field (`cases[2].client.sysctls["fs.file-max"]`); only the first
 * is reported. firstProblem does the same for any schema's issues (results files use it too).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import { isScenario } from './define.ts';
import { scenario } from './schema.ts';
import type { Scenario } from './types.ts';

export { ALLOWED_CAPABILITIES, MAX_CLIENTS, MAX_CONNECTIONS_PER_CLIENT, MAX_DEADLINE_SECONDS, MAX_SERVER_ADDRESSES } from './schema.ts';

type Issue = z.core.$ZodIssue;

export function validateScenario(value: unknown, file: string): Scenario {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(file, undefined, 'the default export must be defineScenario({...})');
  }
  if (!isScenario(value)) throw new InputError(file, undefined, 'the default export is not made by defineScenario({...})');
  const result = scenario.safeParse(value);
  if (!result.success) throw firstProblem(result.error.issues, file);
  const missing = missingDockerfile(value, file);
  if (missing) throw missing;
  // The author's own objects, not the schema's copies: those list fields in the schema's order, and `lab
  // explain` shows overrides in the order they were written.
  return value;
}

/**
 * A client or server program's Dockerfile must exist before anything is built. It is found as the plan finds it
 * (planCase): relative to the scenario file's folder, which is itself relative to the working directory.
 */
function missingDockerfile(spec: Scenario, file: string): InputError | undefined {
  type Host = { program?: { dockerfile?: string | undefined } | undefined } | undefined;
  const places: Array<[string, Host]> = [
    ['client', spec.client],
    ['server', spec.server],
  ];
  spec.cases.forEach((c, i) => {
    for (const role of ['client', 'server'] as const) places.push([`cases[${i}].${role}`, c[role]], [`cases[${i}].quick.${role}`, c.quick?.[role]]);
  });
  for (const [at, host] of places) {
    const dockerfile = host?.program?.dockerfile;
    if (dockerfile === undefined) continue;
    const path = resolve(dirname(file), dockerfile);
    const kind = fileKind(path);
    if (kind === 'file') continue;
    const reason =
      kind === 'missing'
        ? `"${dockerfile}" does not exist (looked for ${path}, relative to the scenario file)`
        : `"${dockerfile}" is ${kind}, not a Dockerfile (${path})`;
    return new InputError(file, `${at}.program.dockerfile`, reason);
  }
  return undefined;
}

function fileKind(path: string): 'file' | 'missing' | 'a folder' | 'not a regular file' | 'not readable' {
  try {
    const stat = statSync(path);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'a folder' : 'not a regular file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'not readable';
  }
}

/** The first of a schema's issues as one InputError, named as the problem is found walking the value. */
export function firstProblem(issues: readonly Issue[], file: string): InputError {
  const { path, reason } = first(issues);
  return new InputError(file, fieldPath(path), reason);
}

function first(issues: readonly Issue[]): { path: PropertyKey[]; reason: string } {
  const found = issues[0]!;
  // An object's unknown fields are named before anything inside it, the outermost object's first.
  const unknown = issues
    .filter((i) => i.code === 'unrecognized_keys' && startsWith(found.path, i.path))
    .sort((a, b) => a.path.length - b.path.length)[0];
  if (unknown?.code === 'unrecognized_keys') return { path: [...unknown.path, unknown.keys[0]!], reason: unknown.message };
  if (found.code === 'invalid_union') {
    // A value of the right kind for one alternative (an object for { everyMs }) is reported inside it.
    const meant = found.errors.filter((option) => option.some((i) => i.path.length > 0 || i.code === 'unrecognized_keys'));
    if (meant.length === 1) {
      const inner = first(meant[0]!);
      return { path: [...found.path, ...inner.path], reason: inner.reason };
    }
  }
  return { path: found.path, reason: found.message };
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

/** `cases[2].client.sysctls["fs.file-max"]`: sysctl names in brackets (they hold dots), other keys after dots. */
function fieldPath(path: readonly PropertyKey[]): string | undefined {
  let field = '';
  path.forEach((key, i) => {
    if (typeof key === 'number') field += `[${key}]`;
    else if (path[i - 1] === 'sysctls') field += `["${String(key)}"]`;
    else field += field ? `.${String(key)}` : String(key);
  });
  return field || undefined;
}
