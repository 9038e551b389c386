/** The lab's exit codes, decided in this one place. */
import { LabError, RuntimeFailure } from '../errors.ts';

export const EXIT = {
  pass: 0,
  expectationFailed: 1,
  input: 2,
  environment: 3,
  runtime: 4,
  interrupted: 130,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof LabError) {
    switch (error.kind) {
      case 'input':
        return EXIT.input;
      case 'environment':
        return EXIT.environment;
      case 'runtime':
        return EXIT.runtime;
      case 'interrupted':
        return EXIT.interrupted;
    }
  }
  return EXIT.runtime;
}

/** One line for the user (the hint on the same line); a stack only for what is not a LabError. */
export function describeError(error: unknown): string {
  if (error instanceof RuntimeFailure && error.details) {
    return `lab: ${error.message}\n${error.details.replace(/^/gm, '  | ')}`;
  }
  if (error instanceof LabError) return `lab: ${error.message}${error.hint ? `: ${error.hint}` : ''}`;
  return `lab: unexpected error: ${(error as Error)?.stack ?? String(error)}`;
}
