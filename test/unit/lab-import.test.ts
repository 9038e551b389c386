/**
 * `import ... from 'tcp-limits-lab'` in a scenario file resolves to the lab that runs it, whatever the
 * scenario's folder holds in node_modules: here another copy, of another version, that exports nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

// As ES modules, as bin/lab.js loads the lab: the loader tsx gives scenario files is an ES module's.
const { loadScenario } = await import('../../lab/scenario/load.ts');

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function lab(args: string[], cwd: string) {
  return spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

const SCENARIO = (name: string) => `import { defineScenario, exactly } from 'tcp-limits-lab';

export default defineScenario({
  name: '${name}',
  claim: 'a claim',
  server: { ports: [8080] },
  client: { connections: 10 },
  expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: () => exactly(10) }],
  cases: [{ name: 'one' }],
});
`;

/** A folder with a scenario and its own node_modules/tcp-limits-lab (version 9.9.9, exporting nothing). */
function folderWithOwnCopy(esm: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), `lab-own-copy-${esm ? 'esm' : 'cjs'}-`));
  const copy = join(dir, 'node_modules', 'tcp-limits-lab');
  mkdirSync(copy, { recursive: true });
  writeFileSync(
    join(copy, 'package.json'),
    JSON.stringify({ name: 'tcp-limits-lab', version: '9.9.9', main: 'index.js', ...(esm && { type: 'module' }) }),
  );
  writeFileSync(join(copy, 'index.js'), esm ? 'export {};\n' : 'module.exports = {};\n');
  if (esm) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'mine.ts'), SCENARIO('mine'));
  return dir;
}

for (const esm of [false, true]) {
  describe(`a scenario folder with its own node_modules/tcp-limits-lab that exports nothing (${esm ? 'an ES module package' : 'CommonJS'})`, () => {
    let dir: string;
    before(() => (dir = folderWithOwnCopy(esm)));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loads: the name resolves to the lab that runs it', async () => {
      const scenario = await loadScenario(join(dir, 'mine.ts'));
      expect(scenario.name).to.equal('mine');
      expect(scenario.cases).to.have.length(1);
    });

    it('lab list <folder> lists it, exit 0', () => {
      const run = lab(['list', dir], dir);
      expect(run.stderr).to.equal('');
      expect(run.status).to.equal(0);
      expect(run.stdout).to.match(/mine\.ts\s+mine\s+1\s+a claim/);
    });

    it('lab explain explains it, exit 0', () => {
      const run = lab(['explain', 'mine.ts'], dir);
      expect(run.stderr).to.equal('');
      expect(run.status).to.equal(0);
      expect(run.stdout.split('\n')[0]).to.equal('mine: a claim');
    });
  });
}
