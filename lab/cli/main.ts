/** The `lab` command line: the table of commands (commands.ts), its parser (args.ts), errors mapped to exit codes in one place. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helpText, parseArgv } from './args.ts';
import { LAB } from './commands.ts';
import { describeError, exitCodeFor } from './exit-codes.ts';
import { guardOutput } from './output.ts';
import { projectRoot } from './project.ts';
import { adoptDockerContext } from '../runtime/docker-context.ts';

export async function main(argv: string[]): Promise<number> {
  // Before any output: a closed stdout (`| head`) or terminal must not kill a run before it cleans up.
  guardOutput();
  try {
    const parsed = parseArgv(argv, LAB);
    // Every engine client reads DOCKER_HOST: the docker CLI's chosen context becomes it, where it is unset.
    if (parsed.kind === 'command') adoptDockerContext();
    switch (parsed.kind) {
      case 'help':
        process.stdout.write((await helpText(LAB, parsed.command)) + '\n');
        return parsed.exitCode;
      case 'version':
        process.stdout.write(`${LAB.name} ${version()}\n`);
        return 0;
      case 'command':
        return await parsed.command.run(parsed.args, parsed.flags);
    }
  } catch (error) {
    process.stderr.write(describeError(error) + '\n');
    return exitCodeFor(error);
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
