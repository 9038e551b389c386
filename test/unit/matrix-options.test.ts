/** lab matrix's --rounds, --case and --cpus: the jobs they make, and bad input refused before anything starts. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `lab matrix` with argv, from the project root: its exit code and stderr, and whether --out was created. */
function matrix(...argv: string[]): { code: number | null; stderr: string; created: boolean } {
  const out = join(mkdtempSync(join(tmpdir(), 'lab-matrix-options-')), 'out');
  const run = spawnSync('node', ['bin/lab.js', 'matrix', ...argv, '--out', out], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stderr: run.stderr, created: existsSync(out) };
}

describe('lab matrix: rounds, one case, VM sizes', () => {
  it('makes a job per kernel and vCPU count, host once on its own cores', async () => {
    const { matrixJobs, cpusList } = await import('../../lab/cli/commands/matrix.ts');
    expect(matrixJobs(['6.12', 'host'], cpusList('1,2')).map((j) => j.kernel)).to.deep.equal(['6.12-1vcpu', '6.12-2vcpu', 'host']);
    expect(matrixJobs(['6.12'], undefined).map((j) => j.kernel)).to.deep.equal(['6.12']);
    expect(cpusList('2, 1,2')).to.deep.equal([2, 1]);
  });

  const refused: Array<[string, string[], RegExp]> = [
    ['--cpus that is not a count', ['--kernels', '6.12', '--cpus', '1,two'], /^lab: --cpus: takes whole numbers of at least 1, comma-separated/],
    [
      '--cpus beyond the cores',
      ['--kernels', '6.12', '--cpus', '4096'],
      /^lab: --cpus: must be a whole number from 1 to \d+ \(this machine's cores\), not 4096$/,
    ],
    ['--rounds 0', ['--kernels', '6.12', '--rounds', '0'], /^lab: --rounds: must be a whole number from 1 to 50$/],
    [
      '--case no scenario has',
      ['--kernels', '6.12', '--case', 'no such case'],
      /^lab: .*connect-churn\.ts: --case: no case named "no such case" \(cases: "one process", "four processes at once"\)$/,
    ],
  ];
  for (const [what, argv, line] of refused) {
    it(`refuses ${what}: one line, exit 2, nothing created`, () => {
      const result = matrix('scenarios/connect-churn.ts', ...argv);
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
      expect(result.stderr.trim()).to.match(line);
      expect(result.code).to.equal(2);
      expect(result.created).to.equal(false);
    });
  }
});
