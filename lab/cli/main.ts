/** The `lab` command line: a small parser, one module per command, errors mapped to exit codes in one place. */
import { cac } from 'cac';
import { InputError } from '../errors.ts';
import { cleanCommand } from './commands/clean.ts';
import { compareCommand } from './commands/compare.ts';
import { explainCommand } from './commands/explain.ts';
import { listCommand } from './commands/list.ts';
import { matrixCommand, type MatrixFlags } from './commands/matrix.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand, type RunFlags } from './commands/run.ts';
import { setupCommand } from './commands/setup.ts';
import { describeError, exitCodeFor } from './exit-codes.ts';

/**
 * An option's value exactly as typed. The parser turns numbers into numbers, and a kernel version is not
 * one: "5.10" would become 5.1.
 */
function rawValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const arg = argv[at]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[at + 1]?.startsWith('-') ? undefined : argv[at + 1];
}

export async function main(argv: string[]): Promise<number> {
  const cli = cac('lab');
  let action: Promise<number> | undefined;
  cli
    .command('run <scenario>', 'Run a scenario against a real kernel and set the results against theory')
    .option('--quick', 'Narrow ranges and counts: the same laws in seconds')
    .option('--json <file>', 'Also write the results JSON to this file')
    .option('--case <name>', 'Run only the case with this name')
    .option('--step', 'Pause before each case and say what it will show (for presenters)')
    .option('--raise-conntrack', "Let the lab raise the host's nf_conntrack_max for a run that needs it (restored afterwards)")
    .option('--runtime <name>', 'docker (containers, the default) or netns (plain network namespaces on this machine: root, no engine)')
    .option('--kernel <version>', "Run in a qemu VM on another kernel: 5.10, 6.1, 6.12 (Debian's), or a path to a kernel image; host for this one")
    .option('--report <dir>', 'Write results JSON, Markdown and HTML here (default: results/<scenario>-<run id>/)')
    .action((scenario: string, flags: RunFlags) => {
      flags.kernel = rawValue(argv, '--kernel') ?? flags.kernel;
      for (const flag of ['json', 'report', 'case', 'runtime', 'kernel'] as const) {
        if (flags[flag] !== undefined && typeof flags[flag] !== 'string') throw new InputError(`--${flag}`, undefined, 'needs a value');
      }
      action = runCommand(scenario, flags);
    });
  cli
    .command('clean', 'Remove containers and networks left by runs (found by their lab.run label)')
    .option('--run <id>', 'Remove only what this run left')
    .action((flags: { run?: string }) => {
      action = cleanCommand(flags);
    });
  cli
    .command('setup', 'Get the Docker engine, the base image and the lab images ready (run does this too)')
    .action(() => {
      action = setupCommand();
    });
  cli
    .command('report <results>', 'Render summary.md and report.html again from a results JSON file')
    .option('--out <dir>', "Write them here (default: the results file's folder)")
    .action((results: string, flags: { out?: string }) => {
      if (flags.out !== undefined && typeof flags.out !== 'string') throw new InputError('--out', undefined, 'needs a value');
      action = reportCommand(results, flags);
    });
  cli
    .command('compare <a> <b> [...more]', 'Set runs side by side (one kernel against another); exit 1 when a verdict differs')
    .option('--markdown <file>', 'Also write the comparison as Markdown to this file')
    .action((a: string, b: string, more: string[], flags: { markdown?: string }) => {
      if (flags.markdown !== undefined && typeof flags.markdown !== 'string') throw new InputError('--markdown', undefined, 'needs a value');
      action = compareCommand([a, b, ...more], flags);
    });
  cli
    .command('matrix [...scenarios]', 'Run scenarios on several kernels (VMs) and write one report marking where kernels differ')
    .option('--kernels <list>', 'Kernels, comma-separated: 5.10, 6.1, 6.12 (VMs), paths to kernel images, host (Docker)')
    .option('--quick', 'Run every scenario in quick mode')
    .option('--out <dir>', 'Results per kernel and matrix.md / matrix.html here (default: results/matrix-<time>/)')
    .option('--from <dir>', 'Render the report from the results files under this folder instead of running')
    .option('--parallel <n>', 'Kernels run at once (default: the number of cores)')
    .action((scenarios: string[], flags: MatrixFlags) => {
      flags.kernels = rawValue(argv, '--kernels') ?? flags.kernels;
      for (const flag of ['kernels', 'out', 'from'] as const) {
        if (flags[flag] !== undefined && typeof flags[flag] !== 'string') throw new InputError(`--${flag}`, undefined, 'needs a value');
      }
      action = matrixCommand(scenarios, flags);
    });
  cli
    .command('list [dir]', 'List the scenarios in scenarios/ (or dir): file, name, cases, claim')
    .action((dir: string | undefined) => {
      action = listCommand(dir);
    });
  cli
    .command('explain <scenario>', 'Say what a scenario claims, its story, and what each case sets and expects')
    .option('--quick', 'Show the cases as --quick runs them, with their quick overrides')
    .action((scenario: string, flags: { quick?: boolean }) => {
      action = explainCommand(scenario, flags);
    });
  cli.help();
  cli.version(process.env.npm_package_version ?? '0.1.0');
  try {
    cli.parse(['node', 'lab', ...argv], { run: false });
    if (!cli.matchedCommand) {
      if (cli.options.help || cli.options.version) return 0;
      throw new InputError('lab', undefined, argv[0] ? `unknown command "${argv[0]}" (see lab --help)` : 'which command? (see lab --help)');
    }
    await cli.runMatchedCommand();
    return action ? await action : 0;
  } catch (error) {
    process.stderr.write(describeError(error) + '\n');
    return exitCodeFor(error);
  }
}
