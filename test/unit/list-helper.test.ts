/**
 * `lab list <folder>` beside a helper module the scenarios import: the helper is no scenario, and no error
 * either. A file that fails to load, or whose default export is no scenario, still is (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function lab(args: string[], cwd: string) {
  return spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

const SCENARIO = (name: string) => `import { defineScenario, exactly } from 'tcp-limits-lab';
import { CONNECTIONS, PORT } from './helper.ts';

export default defineScenario({
  name: '${name}',
  claim: 'a claim',
  server: { ports: [PORT] },
  client: { connections: CONNECTIONS },
  expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: () => exactly(CONNECTIONS) }],
  cases: [{ name: 'one' }],
});
`;

describe('lab list <folder> with a helper module beside the scenarios', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-list-helper-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'helper.ts'), 'export const CONNECTIONS = 10;\nexport const PORT = 8080;\n');
    writeFileSync(join(dir, 'a-first.ts'), SCENARIO('a-first'));
    writeFileSync(join(dir, 'b-second.ts'), SCENARIO('b-second'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the scenarios, notes the helper quietly, and exits 0', () => {
    const run = lab(['list', dir], dir);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/a-first\.ts\s+a-first\s+1\s+a claim/);
    expect(run.stdout).to.match(/b-second\.ts\s+b-second\s+1\s+a claim/);
    expect(run.stdout).to.not.include('helper.ts');
    expect(run.stderr).to.not.match(/^lab: /m);
    expect(run.stderr.trim()).to.equal(`(${join(dir, 'helper.ts')}: not listed: no default export, so no scenario; a module the scenarios import?)`);
  });

  it('still exits 2 for a file that fails to load, naming it', () => {
    writeFileSync(join(dir, 'c-broken.ts'), "import { nothing } from './nowhere.ts';\nexport default nothing;\n");
    const run = lab(['list', dir], dir);
    expect(run.status).to.equal(2);
    expect(run.stdout).to.match(/a-first\.ts\s+a-first/);
    expect(run.stderr).to.match(/^lab: .*c-broken\.ts: cannot be loaded: /m);
    expect(run.stderr).to.not.match(/^lab: .*helper\.ts/m);
  });

  it('still exits 2 for a default export that is no scenario, naming it', () => {
    writeFileSync(join(dir, 'd-not-scenario.ts'), 'export default { hello: 1 };\n');
    const run = lab(['list', dir], dir);
    expect(run.status).to.equal(2);
    expect(run.stdout).to.match(/b-second\.ts\s+b-second/);
    expect(run.stderr).to.match(/^lab: .*d-not-scenario\.ts: /m);
  });

  it('exits 2 for a folder of helpers only: it holds no scenario', () => {
    rmSync(join(dir, 'a-first.ts'));
    rmSync(join(dir, 'b-second.ts'));
    const run = lab(['list', dir], dir);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include(`lab: ${dir}: holds no scenario: none of its .ts files has a default export`);
  });
});
