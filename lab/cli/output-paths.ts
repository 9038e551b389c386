/**
 * Every path a command will write to is checked before anything starts (before a run, before a report is
 * rendered): a bad one is an InputError naming the flag (exit 2), never a run that fails at its end, nor a
 * hang (a recursive mkdir under /proc never returns). One function, used by every command that writes.
 */
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';

/** Kernel and device file systems: nothing the lab writes belongs there. */
const NOT_FOR_OUTPUT = ['/proc', '/sys', '/dev'];

export interface OutputPath {
  /** The flag it came from, as typed: `--json`, `--report`. */
  readonly flag: string;
  readonly path: string;
  /** A file the command writes, or a folder it writes files into (made when missing). */
  readonly kind: 'file' | 'dir';
  /** Files the command reads that this output must not overwrite, with what they are ("the scenario file"). */
  readonly inputs?: ReadonlyArray<{ readonly path: string; readonly what: string }>;
  /** Said after the path when it is the command's default rather than typed ("the default"). */
  readonly note?: string;
}

/** Throws an InputError naming the flag when a command could not write there; returns the path resolved. */
export function checkOutputPath(output: OutputPath): string {
  const { flag, path, kind } = output;
  const shown = output.note ? `${path} (${output.note})` : path;
  const refuse = (reason: string): never => {
    throw new InputError(flag, undefined, `${shown} ${reason}`);
  };
  const absolute = resolve(path);

  // The nearest part of the path that exists: the path itself, or the folder it would be made in.
  let existing = absolute;
  const missing: string[] = [];
  let stats: Stats;
  for (;;) {
    try {
      stats = statSync(existing);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') return refuse(`cannot be written: ${existing === absolute ? 'it is' : `${existing} is`} a symlink loop`);
      if (code === 'EACCES') return refuse(`cannot be written: permission denied looking at ${existing}`);
      // ENOTDIR: a part of it is a file; the walk up finds which, and says so below.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return refuse(`cannot be written: ${code ?? (error as Error).message}`);
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  const real = join(realpathSync(existing), ...missing);
  const system = NOT_FOR_OUTPUT.find((root) => [absolute, real].some((p) => p === root || p.startsWith(`${root}/`)));
  if (system) refuse(`is under ${system}, a kernel or device file system: give a path on disk`);

  if (existing === absolute) {
    if (kind === 'file') {
      if (stats.isDirectory()) refuse('is a folder: give a file name');
      if (!stats.isFile()) refuse('is not a regular file');
      if (!writable(absolute)) refuse('is a file this user cannot write');
    } else {
      if (!stats.isDirectory()) refuse('is a file, not a folder');
      if (!writable(absolute)) refuse('is a folder this user cannot write to');
    }
  } else {
    if (!stats.isDirectory()) refuse(`cannot be made: ${existing} is a file, not a folder`);
    if (!writable(existing)) refuse(`cannot be made: ${existing} is a folder this user cannot write to`);
  }

  if (kind === 'file' && existing === absolute) {
    for (const input of output.inputs ?? []) {
      if (sameFile(absolute, input.path)) refuse(`is ${input.what}: writing there would overwrite it`);
    }
  }
  return absolute;
}

export function checkOutputPaths(outputs: readonly OutputPath[]): void {
  for (const output of outputs) checkOutputPath(output);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The same file under two names (relative and absolute, a symlink, a hard link). */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
