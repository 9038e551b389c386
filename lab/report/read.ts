/** Reads a results document back from disk for `lab report` and `lab compare`; every failure names the file. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { RESULTS_SCHEMA, type Results } from '../results/results.ts';

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

/** resultsToJson writes an open-ended prediction's Infinity as null: this turns it back. */
export function parseResults(text: string, file: string): Results {
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v) => (key === 'max' && v === null ? Infinity : v));
  } catch (error) {
    throw new InputError(file, undefined, `not a lab results document: not JSON (${(error as Error).message})`);
  }
  const schema = (value as { schema?: unknown } | null)?.schema;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(file, undefined, 'not a lab results document: not a JSON object');
  }
  if (schema !== RESULTS_SCHEMA) {
    const found = schema === undefined ? 'no schema field' : `schema is ${JSON.stringify(schema)}`;
    throw new InputError(file, 'schema', `not a lab results document: ${found}, expected "${RESULTS_SCHEMA}"`);
  }
  if (!Array.isArray((value as { cases?: unknown }).cases)) throw new InputError(file, 'cases', 'missing or not a list');
  return value as Results;
}
