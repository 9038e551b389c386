/** The command line's parser as a pure function over the table of commands (lab/cli/commands.ts). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { helpText, parseArgv, type Parsed } from '../../lab/cli/args.ts';
import { LAB } from '../../lab/cli/commands.ts';
import { describeError, exitCodeFor } from '../../lab/cli/exit-codes.ts';
import { InputError } from '../../lab/errors.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

const parse = (...argv: string[]) => parseArgv(argv, LAB);

function command(...argv: string[]): Extract<Parsed, { kind: 'command' }> {
  const parsed = parse(...argv);
  if (parsed.kind !== 'command') throw new Error(`expected a command, got ${parsed.kind}`);
  return parsed;
}

/** The help argv asks for, rendered, and its exit code. */
async function help(...argv: string[]): Promise<{ text: string; exitCode: number }> {
  const parsed = parse(...argv);
  if (parsed.kind !== 'help') throw new Error(`expected help, got ${parsed.kind}`);
  return { text: await helpText(LAB, parsed.command), exitCode: parsed.exitCode };
}

/** The line the user sees on stderr for argv, and the exit code; the error must be an InputError. */
function refusal(...argv: string[]): { line: string; code: number } {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return { line: describeError(error), code: exitCodeFor(error) };
  }
  throw new Error(`lab ${argv.join(' ')} was not refused`);
}

describe('lab command line: parsing', () => {
  it('keeps a kernel version a string: 5.10 stays "5.10", not 5.1', () => {
    expect(command('run', 'scenarios/64k-myth.ts', '--kernel', '5.10').flags).to.deep.equal({ kernel: '5.10' });
    expect(command('run', 'scenarios/64k-myth.ts', '--kernel=5.10').flags.kernel).to.equal('5.10');
    expect(command('matrix', 'scenarios/64k-myth.ts', '--kernels', '5.10,6.1').flags.kernels).to.equal('5.10,6.1');
    expect(command('matrix', '--kernels', '6.10').flags.kernels).to.equal('6.10');
  });

  it('keeps every string value as typed, numbers-looking or not', () => {
    const { flags } = command('run', 'x.ts', '--json', '007', '--case', '1e3', '--report', '10', '--runtime', 'netns');
    expect(flags).to.deep.equal({ json: '007', case: '1e3', report: '10', runtime: 'netns' });
  });

  it('gives the run command its scenario and camelCased flags (RunFlags)', () => {
    const parsed = command('run', 'scenarios/64k-myth.ts', '--quick', '--step', '--raise-conntrack');
    expect(parsed.command.name).to.equal('run');
    expect(parsed.args).to.deep.equal({ scenario: 'scenarios/64k-myth.ts' });
    expect(parsed.flags).to.deep.equal({ quick: true, step: true, raiseConntrack: true });
  });

  it('takes options before, between and after positionals', () => {
    const parsed = command('compare', '--markdown', 'c.md', 'a.json', 'b.json', 'c.json', 'd.json');
    expect(parsed.args).to.deep.equal({ a: 'a.json', b: 'b.json', more: ['c.json', 'd.json'] });
    expect(parsed.flags).to.deep.equal({ markdown: 'c.md' });
  });

  it('gives variadic and optional positionals as empty when absent', () => {
    expect(command('matrix', '--from', 'matrix-results').args).to.deep.equal({ scenarios: [] });
    expect(command('compare', 'a.json', 'b.json').args).to.deep.equal({ a: 'a.json', b: 'b.json', more: [] });
    expect(command('list').args).to.deep.equal({ dir: undefined });
    expect(command('list', 'test/fixtures/scenarios').args).to.deep.equal({ dir: 'test/fixtures/scenarios' });
    expect(command('setup').args).to.deep.equal({});
  });

  it('parses matrix --parallel as a number', () => {
    expect(command('matrix', 'a.ts', '--parallel', '3').flags.parallel).to.equal(3);
    expect(command('matrix', 'a.ts', '--parallel=2').flags.parallel).to.equal(2);
  });

  it('refuses a --parallel that is not a number, naming the flag', () => {
    expect(refusal('matrix', 'a.ts', '--parallel', 'abc')).to.deep.equal({ line: 'lab: --parallel: must be a number (got "abc")', code: 2 });
    expect(refusal('matrix', 'a.ts', '--parallel', '4x').line).to.match(/^lab: --parallel: /);
  });
});

describe('lab command line: mistakes are one line, exit 2', () => {
  it('suggests the nearest command for an unknown one', () => {
    expect(refusal('rnu', 'x')).to.deep.equal({ line: 'lab: unknown command "rnu" (did you mean "run"?)', code: 2 });
    expect(refusal('matirx').line).to.equal('lab: unknown command "matirx" (did you mean "matrix"?)');
    expect(refusal('explian', 'x.ts').line).to.include('did you mean "explain"?');
  });

  it('points to --help when no command is near', () => {
    expect(refusal('fly')).to.deep.equal({ line: 'lab: unknown command "fly" (see lab --help)', code: 2 });
  });

  it("names an unknown option, and the nearest of that command's options", () => {
    expect(refusal('run', 'x.ts', '--quik').line).to.equal('lab: Unknown option `--quik` (did you mean `--quick`?)');
    expect(refusal('run', 'x.ts', '--kernels', '6.1').line).to.equal('lab: Unknown option `--kernels` (did you mean `--kernel`?)');
    expect(refusal('matrix', 'x.ts', '--kernel', '6.1').line).to.equal('lab: Unknown option `--kernel` (did you mean `--kernels`?)');
    // Only that command's options: --quick is run's, not report's.
    expect(refusal('report', 'r.json', '--quick').line).to.equal('lab: Unknown option `--quick` (see lab --help)');
  });

  it('words an unknown option with nothing near as the integration tests expect', () => {
    expect(refusal('run', 'x.ts', '--turbo')).to.deep.equal({ line: 'lab: Unknown option `--turbo` (see lab --help)', code: 2 });
    expect(refusal('run', 'x.ts', '--bogus').line).to.match(/Unknown option `--bogus`/);
    expect(refusal('--bogus').line).to.equal('lab: Unknown option `--bogus` (see lab --help)');
  });

  it('names a missing positional argument', () => {
    expect(refusal('run')).to.deep.equal({ line: 'lab: missing argument <scenario> (usage: lab run <scenario> [options])', code: 2 });
    expect(refusal('compare', 'a.json').line).to.equal('lab: missing argument <b> (usage: lab compare <a> <b> [...more] [options])');
    expect(refusal('report').line).to.include('<results>');
    expect(refusal('explain').line).to.include('<scenario>');
  });

  it('refuses an argument too many', () => {
    expect(refusal('run', 'a.ts', 'b.ts').line).to.equal('lab: unexpected argument "b.ts" (usage: lab run <scenario> [options])');
  });

  it('says when an option is missing its value, also when another option follows', () => {
    const line = 'lab: option `--json <file>` value is missing (see lab --help)';
    expect(refusal('run', 'x.ts', '--json')).to.deep.equal({ line, code: 2 });
    expect(refusal('run', 'x.ts', '--json', '--quick').line).to.equal(line);
    expect(refusal('run', 'x.ts', '--json=').line).to.equal(line);
    expect(refusal('report', 'r.json', '--out').line).to.equal('lab: option `--out <dir>` value is missing (see lab --help)');
    expect(refusal('matrix', '--parallel').line).to.equal('lab: option `--parallel <n>` value is missing (see lab --help)');
  });

  it('refuses a value given to a switch', () => {
    expect(refusal('run', 'x.ts', '--quick=yes').line).to.equal('lab: option `--quick` takes no value (got "yes")');
  });
});

describe('lab command line: help and version', () => {
  it('lists every command with its summary, a few examples, --help and --version', async () => {
    const { text, exitCode } = await help('--help');
    expect(exitCode).to.equal(0);
    expect(LAB.commands.map((c) => c.name)).to.deep.equal([
      'run',
      'clean',
      'setup',
      'report',
      'compare',
      'matrix',
      'list',
      'explain',
      'new',
      'local-swarm',
    ]);
    for (const c of LAB.commands) {
      expect(text).to.match(new RegExp(`^  ${c.name}\\b.*  ${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    }
    expect(text).to.include('Examples:\n  lab ');
    expect(text).to.include('--version');
    expect((await help('-h')).text).to.equal(text);
  });

  it("shows a command's usage, every option with its description, and its examples", async () => {
    for (const c of LAB.commands) {
      const { text, exitCode } = await help(c.name, '--help');
      expect(exitCode).to.equal(0);
      expect(text).to.match(new RegExp(`^Usage: lab ${c.name}\\b`));
      expect(text).to.include(c.summary);
      for (const o of c.options)
        expect(text).to.match(
          new RegExp(`--${o.name}${o.valueName ? ` <${o.valueName}>` : ''} +${o.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
        );
      for (const e of c.examples) expect(text).to.include(`  ${e}`);
    }
    const runHelp = (await help('run', '--help')).text;
    expect((await help('run', '-h')).text).to.equal(runHelp);
    expect((await help('--help', 'run')).text).to.equal(runHelp);
    // Help wins over what else is on the line.
    expect((await help('run', '--bogus', '--help')).text).to.match(/^Usage: lab run <scenario> \[options\]/);
  });

  it("lists --runtime's choices from the registry: each runtime's name and summary, the default marked", async () => {
    const { registeredRuntimes } = await import('../../lab/runtime/runtimes.ts');
    const { text } = await help('run', '--help');
    const choices = text
      .split('\n')
      .filter((line) => /^ {4,}\S/.test(line))
      .map((line) => line.trim().split(/ {2,}/));
    expect(choices).to.deep.equal(registeredRuntimes().map((r) => [r.name, r.isDefault ? `${r.summary} (the default)` : r.summary]));
  });

  it("keeps the options that cac knew, with today's value names", () => {
    const usage = (name: string) =>
      LAB.commands.find((c) => c.name === name)!.options.map((o) => (o.valueName ? `--${o.name} <${o.valueName}>` : `--${o.name}`));
    expect(usage('run')).to.deep.equal([
      '--quick',
      '--json <file>',
      '--case <name>',
      '--step',
      '--raise-conntrack',
      '--notrack',
      '--raise-file-max',
      '--until-memory-floor',
      '--runtime <name>',
      '--family <family>',
      '--swarm',
      '--kernel <version>',
      '--report <dir>',
      '--junit <file>',
    ]);
    expect(usage('clean')).to.deep.equal(['--run <id>', '--force']);
    expect(usage('setup')).to.deep.equal([]);
    expect(usage('report')).to.deep.equal(['--out <dir>']);
    expect(usage('compare')).to.deep.equal(['--markdown <file>']);
    expect(usage('matrix')).to.deep.equal([
      '--kernels <list>',
      '--quick',
      '--out <dir>',
      '--from <dir>',
      '--parallel <n>',
      '--rounds <n>',
      '--case <name>',
      '--cpus <list>',
      '--junit <file>',
    ]);
    expect(usage('list')).to.deep.equal([]);
    expect(usage('explain')).to.deep.equal(['--quick']);
    expect(usage('new')).to.deep.equal([]);
  });

  it('gives every command an example that runs it', () => {
    for (const c of LAB.commands) {
      expect(c.examples.length, c.name).to.be.at.least(1);
      for (const e of c.examples) expect(e.startsWith(`lab ${c.name}`), e).to.equal(true);
    }
  });

  it('names only scenarios that exist in its examples', () => {
    const named = LAB.commands.flatMap((c) => c.examples.flatMap((e) => e.match(/scenarios\/[\w-]+\.ts/g) ?? []));
    expect(named).to.not.be.empty;
    for (const file of named) expect(existsSync(join(projectRoot, file)), file).to.equal(true);
  });

  it('asks for the version with --version and -v', () => {
    expect(parse('--version')).to.deep.equal({ kind: 'version' });
    expect(parse('-v')).to.deep.equal({ kind: 'version' });
  });

  it('prints the full help for a bare lab, with exit code 2', async () => {
    const bare = await help();
    expect(bare.exitCode).to.equal(2);
    expect(bare.text).to.equal((await help('--help')).text);
    expect(bare.text).to.include('matrix');
    expect(bare.text).to.not.include('which command');
  });

  it('prints that help on stdout when bin/lab.js runs bare', async () => {
    const run = spawnSync(process.execPath, ['bin/lab.js'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).to.equal(2);
    expect(run.stdout).to.equal((await help('--help')).text + '\n');
    expect(run.stderr).to.equal('');
  });
});
