/**
 * Every failure the lab reports on purpose is a LabError. The CLI maps its kind to an exit code in one
 * place (cli/exit-codes.ts); anything else is a bug and prints a stack.
 */
export type LabErrorKind =
  | 'input' // the user's scenario, flags or files are wrong: nothing was started
  | 'environment' // the machine cannot run the lab (no engine, no permission)
  | 'runtime' // something broke while a run was under way (a container died, an image failed to build)
  | 'interrupted'; // SIGINT / SIGTERM

export class LabError extends Error {
  constructor(
    readonly kind: LabErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/** Bad input: names the file and the field it is about. */
export class InputError extends LabError {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    reason: string,
  ) {
    super('input', field ? `${file}: ${field}: ${reason}` : `${file}: ${reason}`);
    this.name = 'InputError';
  }
}

export class EnvironmentError extends LabError {
  constructor(message: string, hint?: string) {
    super('environment', message, hint);
    this.name = 'EnvironmentError';
  }
}

export class RuntimeFailure extends LabError {
  /** Output worth showing under the line, such as the failing build step's. */
  readonly details?: string;

  constructor(message: string, hint?: string, details?: string) {
    super('runtime', message, hint);
    this.name = 'RuntimeFailure';
    if (details) this.details = details;
  }
}

export class Interrupted extends LabError {
  constructor(readonly signal: NodeJS.Signals) {
    super('interrupted', `interrupted by ${signal}: tore down what this run created`);
    this.name = 'Interrupted';
  }
}
