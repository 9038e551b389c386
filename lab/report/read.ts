/** Reads a results document back from disk for `lab report` and `lab compare`; every failure names the file. */
import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import type { Results } from '../results/results.ts';
import { results as resultsSchema } from '../results/schema.ts';
import { firstProblem } from '../scenario/validate.ts';

/**
 * Bounds on a file to read as results, so that hostile input is refused at once rather than after seconds and
 * gigabytes: no results file the lab writes comes near either (its deepest fields sit about 10 levels down).
 */
export const MAX_RESULTS_BYTES = 256 * 1024 * 1024;
export const MAX_RESULTS_DEPTH = 64;
/** The most of a problem's own words an error line quotes (a field or value can be megabytes). */
const MAX_QUOTED = 200;

export async function readResults(file: string): Promise<Results> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_RESULTS_BYTES) throw tooLarge(file, size);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code === 'ENOENT' ? 'no such results file' : `cannot be read (${code ?? String(error)})`);
  }
  return parseResults(text, file);
}

function tooLarge(file: string, size: number): InputError {
  return new InputError(
    file,
    undefined,
    `not a lab results document: ${formatMiB(size)}, over the ${formatMiB(MAX_RESULTS_BYTES)} a results file may be (the lab writes none that large)`,
  );
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;
}

/** JSON has neither Infinity nor NaN, so resultsToJson wrote both as null: these keys get them back. */
const WRITTEN_AS_NULL: ReadonlyMap<string, number> = new Map([
  ['max', Infinity],
  ['min', NaN],
  ['measured', NaN],
]);

export function parseResults(text: string, file: string): Results {
  // Bytes from chars: UTF-16 units never outnumber UTF-8 bytes.
  if (text.length > MAX_RESULTS_BYTES) throw tooLarge(file, text.length);
  // Before JSON.parse: 25 million nested arrays parse (slowly, into gigabytes) and then overflow the stack
  // of whatever walks them.
  const depth = nestingBeyond(text, MAX_RESULTS_DEPTH);
  if (depth !== undefined) {
    throw new InputError(
      file,
      undefined,
      `not a lab results document: nested more than ${MAX_RESULTS_DEPTH} levels deep (at character ${depth + 1}); a results file nests about 10`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v) => (v === null && WRITTEN_AS_NULL.has(key) ? WRITTEN_AS_NULL.get(key) : v));
  } catch (error) {
    throw new InputError(file, undefined, `not a lab results document: not JSON (${clip((error as Error).message)})`);
  }
  const checked = resultsSchema.safeParse(value, { error: problem });
  if (!checked.success) throw bounded(firstProblem(checked.error.issues, file));
  // The document as written rather than the schema's copy, which would drop fields this lab does not know.
  return value as Results;
}

/**
 * Where the text's arrays and objects first nest deeper than the limit (the offset of the bracket that opens
 * one level too many), or undefined. Brackets inside strings do not count. One pass, no allocation.
 */
export function nestingBeyond(text: string, limit: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** A text cut to what an error line may quote, saying how long it was. */
function clip(text: string): string {
  return text.length <= MAX_QUOTED ? text : `${text.slice(0, MAX_QUOTED)}... (cut: ${text.length} characters in all)`;
}

/** A schema's problem with the field path and reason each cut to what one line may quote. */
function bounded(error: InputError): InputError {
  const prefix = error.field !== undefined ? `${error.file}: ${error.field}: ` : `${error.file}: `;
  const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new InputError(error.file, error.field === undefined ? undefined : clip(error.field), clip(reason));
}

/** What is wrong with a field, said as "missing or not" what the reports need there. */
function problem(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') return `missing or not ${EXPECTED[issue.expected] ?? issue.expected}`;
  if (issue.code === 'invalid_value') {
    const values = issue.values.map((v) => JSON.stringify(v));
    return `missing or not ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}`;
  }
  // Alternatives, such as a number or NaN: say what the first one needs.
  if (issue.code === 'invalid_union') return issue.errors[0]?.[0]?.message;
  return undefined;
}

const EXPECTED: Readonly<Record<string, string>> = {
  array: 'a list',
  object: 'an object',
  record: 'an object',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};
