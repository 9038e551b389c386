/**
 * The command line as data: a program is a table of commands, each with its positional arguments, its
 * options, a summary and examples. parseArgv turns argv into the command to run with its arguments and
 * flags (or the help to print) and throws an InputError (exit 2) for anything it cannot make sense of.
 * It does no I/O, so tests call it directly; the help it asks for is rendered apart (helpText), since an
 * option's choices may have to be loaded. Option values stay the strings typed ("5.10" stays "5.10");
 * only options of kind 'number' are turned into numbers, and a value that is not one is refused.
 */
import { parseArgs } from 'node:util';
import { closest } from '../did-you-mean.ts';
import { InputError } from '../errors.ts';

export type OptionKind = 'boolean' | 'string' | 'number';

export interface OptionSpec {
  /** As typed after the two dashes, kebab-case: `raise-conntrack` reaches the command as `raiseConntrack`. */
  readonly name: string;
  readonly kind: OptionKind;
  /** What the value is, for help and errors: `--json <file>`. Options of kind string or number have one. */
  readonly valueName?: string;
  readonly description: string;
  /**
   * The values it takes, each with a line for people, listed under it in its command's help. Loaded for the
   * help only: they may come from modules that parsing has no need of.
   */
  readonly choices?: () => Promise<readonly Choice[]>;
}

export interface Choice {
  readonly name: string;
  readonly summary: string;
}

/** required `<name>`, optional `[name]`, variadic `[...name]` (zero or more, last only). */
export type PositionalKind = 'required' | 'optional' | 'variadic';

export interface PositionalSpec {
  readonly name: string;
  readonly kind: PositionalKind;
}

/** `raise-conntrack` -> `raiseConntrack`, in types as in values. */
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
interface KindValue {
  boolean: boolean;
  string: string;
  number: number;
}

/** The flags a command's handler receives: one optional property per option, camelCased, of its kind's type. */
export type FlagsOf<O extends readonly OptionSpec[]> = { [S in O[number] as Camel<S['name']>]?: KindValue[S['kind']] };

/** The positional arguments a command's handler receives, by name. */
export type ArgsOf<P extends readonly PositionalSpec[]> = {
  [S in P[number] as S['name']]: S['kind'] extends 'required' ? string : S['kind'] extends 'optional' ? string | undefined : string[];
};

export interface CommandSpec<P extends readonly PositionalSpec[], O extends readonly OptionSpec[]> {
  readonly name: string;
  readonly summary: string;
  readonly positionals: P;
  readonly options: O;
  readonly examples: readonly [string, ...string[]];
  /** Resolves with the exit code. */
  run(args: ArgsOf<P>, flags: FlagsOf<O>): Promise<number>;
}

export type Args = Record<string, string | string[] | undefined>;
export type Flags = Record<string, string | boolean | number>;

/** A command with its argument types erased, for the table. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly [string, ...string[]];
  run(args: Args, flags: Flags): Promise<number>;
}

export interface Program {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
  /** For the program's help: a few commands as a user would type them. */
  readonly examples: readonly string[];
}

/** A command, its handler typed from its positionals and options. */
export function defineCommand<const P extends readonly PositionalSpec[], const O extends readonly OptionSpec[]>(spec: CommandSpec<P, O>): Command {
  const positionals = spec.positionals;
  positionals.forEach((p, i) => {
    if (p.kind === 'variadic' && i !== positionals.length - 1) throw new Error(`${spec.name}: the variadic <${p.name}> must come last`);
    if (p.kind === 'required' && positionals.slice(0, i).some((q) => q.kind !== 'required'))
      throw new Error(`${spec.name}: <${p.name}> is required after an optional argument`);
  });
  for (const o of spec.options) {
    if ((o.kind === 'boolean') === (o.valueName !== undefined))
      throw new Error(`${spec.name}: --${o.name}: a valueName belongs to string and number options, and only to them`);
    if (o.name === 'help') throw new Error(`${spec.name}: --help is every command's already`);
  }
  return spec as unknown as Command;
}

/**
 * `flags` passed on as a command function's own flags type, and a compile error when the table gives the
 * command an option that type does not have (a misspelt option would otherwise be parsed and ignored).
 */
export function exactly<Expected>() {
  return <T extends Expected>(flags: T & Record<Exclude<keyof T, keyof Expected>, never>): Expected => flags;
}

/**
 * A command-line mistake: an InputError (exit 2) whose message is the whole line, since there is no file
 * and field to name; `file` holds the word it is about (the command or option as typed).
 */
export class UsageError extends InputError {
  constructor(about: string, line: string) {
    super(about, undefined, line);
    this.message = line;
    this.name = 'UsageError';
  }
}

export type Parsed =
  /** The program's help, or that of the command named. */
  | { readonly kind: 'help'; readonly command?: Command; readonly exitCode: number }
  | { readonly kind: 'version' }
  | { readonly kind: 'command'; readonly command: Command; readonly args: Args; readonly flags: Flags };

const HELP: OptionSpec = { name: 'help', kind: 'boolean', description: 'Show this help' };

/** `lab` alone prints the help, with exit code 2: nothing was asked for. */
export const BARE_EXIT_CODE = 2;

export function parseArgv(argv: readonly string[], program: Program): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'help', exitCode: BARE_EXIT_CODE };
  if (first === '-h' || first === '--help') {
    // `lab --help run` is `lab run --help`.
    const command = program.commands.find((c) => c.name === rest[0]);
    return { kind: 'help', command, exitCode: 0 };
  }
  if (first === '-v' || first === '--version') return { kind: 'version' };
  if (first.startsWith('-')) throw unknownOption(program, first, ['help', 'version']);
  const command = program.commands.find((c) => c.name === first);
  if (!command) {
    const near = closest(
      first,
      program.commands.map((c) => c.name),
    );
    throw new UsageError(first, `unknown command "${first}" ${near ? `(did you mean "${near}"?)` : `(see ${program.name} --help)`}`);
  }
  return parseCommand(program, command, rest);
}

function parseCommand(program: Program, command: Command, argv: readonly string[]): Parsed {
  const byName = new Map(command.options.map((o) => [o.name, o]));
  const config = Object.fromEntries(
    command.options.map((o) => [o.name, { type: o.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  // Not strict: an unknown option, or one missing its value, is reported below in the lab's own words.
  const { tokens } = parseArgs({
    args: [...argv],
    options: { ...config, help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'help', command, exitCode: 0 };

  const positionals: string[] = [];
  const flags: Flags = {};
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const option = byName.get(token.name);
    if (!option)
      throw unknownOption(
        program,
        token.rawName,
        command.options.map((o) => o.name),
      );
    const key = camel(option.name);
    if (option.kind === 'boolean') {
      if (token.value !== undefined) throw new UsageError(token.rawName, `option \`--${option.name}\` takes no value (got "${token.value}")`);
      flags[key] = true;
      continue;
    }
    // `--json --quick`: the next argument is another option, not this one's value.
    const value = token.value;
    if (value === undefined || value === '' || (!token.inlineValue && value.startsWith('-'))) {
      throw new UsageError(token.rawName, `option \`--${option.name} <${option.valueName}>\` value is missing (see ${program.name} --help)`);
    }
    if (option.kind === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`--${option.name}`, undefined, `must be a number (got "${value}")`);
      flags[key] = n;
    } else {
      flags[key] = value;
    }
  }

  const args: Args = {};
  const usage = `usage: ${usageLine(program, command)}`;
  for (const p of command.positionals) {
    if (p.kind === 'variadic') {
      args[p.name] = positionals.splice(0);
      continue;
    }
    const value = positionals.shift();
    if (value === undefined && p.kind === 'required') throw new UsageError(p.name, `missing argument <${p.name}> (${usage})`);
    args[p.name] = value;
  }
  if (positionals.length) throw new UsageError(positionals[0]!, `unexpected argument "${positionals[0]}" (${usage})`);
  return { kind: 'command', command, args, flags };
}

function unknownOption(program: Program, raw: string, names: readonly string[]): UsageError {
  const typed = raw.replace(/=.*$/, '');
  const near = closest(typed.replace(/^-+/, ''), names);
  return new UsageError(typed, `Unknown option \`${typed}\` ${near ? `(did you mean \`--${near}\`?)` : `(see ${program.name} --help)`}`);
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

// ---- help ----

function positionalUsage(p: PositionalSpec): string {
  return p.kind === 'required' ? `<${p.name}>` : p.kind === 'optional' ? `[${p.name}]` : `[...${p.name}]`;
}

function usageLine(program: Program, command: Command): string {
  return [program.name, command.name, ...command.positionals.map(positionalUsage), ...(command.options.length ? ['[options]'] : [])].join(' ');
}

function optionUsage(o: OptionSpec): string {
  return o.valueName ? `--${o.name} <${o.valueName}>` : `--${o.name}`;
}

/** An option's choices, under its description: each name, and its summary lined up after the longest. */
function choiceRows(choices: readonly Choice[] = []): Array<readonly [string, string]> {
  const width = Math.max(0, ...choices.map((c) => c.name.length));
  return choices.map((c) => ['', `  ${c.name.padEnd(width)}  ${c.summary}`] as const);
}

/** Two columns, the second lined up. */
function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}

/** The help parseArgv asked for: the program's, or the command's. */
export async function helpText(program: Program, command?: Command): Promise<string> {
  return command ? commandHelp(program, command) : programHelp(program);
}

function programHelp(program: Program): string {
  const commands = program.commands.map((c) => [[c.name, ...c.positionals.map(positionalUsage)].join(' '), c.summary] as const);
  return [
    `${program.name}: ${program.summary}`,
    '',
    `Usage: ${program.name} <command> [options]`,
    '',
    'Commands:',
    table(commands),
    '',
    'Examples:',
    ...program.examples.map((e) => `  ${e}`),
    '',
    'Options:',
    table([
      ['-h, --help', `Show this help (${program.name} <command> --help: the command's options and examples)`],
      ['-v, --version', 'Print the version'],
    ]),
  ].join('\n');
}

async function commandHelp(program: Program, command: Command): Promise<string> {
  const described = await Promise.all(
    command.options.map(async (o) => [[optionUsage(o), o.description] as const, ...choiceRows(await o.choices?.())]),
  );
  const options = [...described.flat(), ['-h, --help', HELP.description] as const];
  return [
    `Usage: ${usageLine(program, command)}`,
    '',
    command.summary,
    '',
    'Options:',
    table(options),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
  ].join('\n');
}
