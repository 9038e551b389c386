/** Reads a results document back from disk for `lab report` and `lab compare`; every failure names the file. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import type { Results } from '../results/results.ts';
import { results as resultsSchema } from '../results/schema.ts';
import { firstProblem } from '../scenario/validate.ts';

export async function readResults(file: string): Promise<Results> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code === 'ENOENT' ? 'no such results file' : `cannot be read (${code ?? String(error)})`);
  }
  return parseResults(text, file);
}

/** JSON has neither Infinity nor NaN, so resultsToJson wrote both as null: these keys get them back. */
const WRITTEN_AS_NULL: ReadonlyMap<string, number> = new Map([['max', Infinity], ['min', NaN], ['measured', NaN]]);

export function parseResults(text: string, file: string): Results {
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v) => (v === null && WRITTEN_AS_NULL.has(key) ? WRITTEN_AS_NULL.get(key) : v));
  } catch (error) {
    throw new InputError(file, undefined, `not a lab results document: not JSON (${(error as Error).message})`);
  }
  const checked = resultsSchema.safeParse(value, { error: problem });
  if (!checked.success) throw firstProblem(checked.error.issues, file);
  // The document as written rather than the schema's copy, which would drop fields this lab does not know.
  return value as Results;
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
