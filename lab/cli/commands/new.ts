/**
 * `lab new <name>`: a typed starting scenario in the current folder (one case, one expectation), and a
 * tsconfig.json that points editors at this lab's types when the folder has none.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { InputError } from '../../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export async function newCommand(name: string): Promise<number> {
  if (!NAME.test(name))
    throw new InputError('lab new', undefined, `"${name}" is not a scenario name: lowercase letters, digits and dashes, at most 64`);
  const file = resolve(`${name}.ts`);
  if (existsSync(file)) throw new InputError(relative(process.cwd(), file), undefined, 'is there already: pick another name, or remove it');
  // Before anything is written, as lab run checks where its results go: one line naming the folder, exit 2.
  const cannotWrite = whyNotWritable(process.cwd());
  if (cannotWrite)
    throw new InputError(process.cwd(), undefined, `${cannotWrite}: lab new cannot write ${name}.ts there (run it in a folder you can write to)`);
  await writeFile(file, starter(name));
  const written = [relative(process.cwd(), file)];
  const tsconfig = resolve('tsconfig.json');
  if (!existsSync(tsconfig)) {
    await writeFile(tsconfig, editorConfig());
    written.push('tsconfig.json');
  }
  process.stdout.write(`wrote ${written.join(', ')}\nrun it: lab run ${written[0]} --quick   (explain it: lab explain ${written[0]})\n`);
  return EXIT.pass;
}

/** Why this user cannot write files into `folder`, or undefined when it can. */
function whyNotWritable(folder: string): string | undefined {
  try {
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'is on a read-only file system';
    if (code === 'EACCES' || code === 'EPERM') return 'is a folder this user cannot write to (permission denied)';
    return `cannot be written to (${code ?? (error as Error).message})`;
  }
}

function starter(name: string): string {
  return `import { defineScenario, serverHolds, usablePortsOf } from 'tcp-limits-lab';

/** One client with a 1,000-port range against one server port: it holds exactly the usable ports. */
export default defineScenario({
  name: '${name}',
  claim: 'A client holds one connection per usable port of its range to one server port.',
  server: { ports: [8080] },
  client: { connections: 'fill', sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } },
  expect: [
    { claim: 'the client holds every usable port of its range', subject: 'each client', metric: 'estab', predict: (ctx) => usablePortsOf(ctx.client!, ctx.kernel) },
    { claim: 'the server holds what the client holds', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [{ name: 'one client', clients: 1 }],
});
`;
}

/** Types for editors: the lab's own module, where this lab is installed. */
function editorConfig(): string {
  const index = resolve(projectRoot, 'lab/index.ts');
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      paths: { 'tcp-limits-lab': [index] },
    },
  };
  return JSON.stringify(config, null, 2) + '\n';
}
