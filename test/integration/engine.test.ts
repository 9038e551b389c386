/** Engine trouble: each a clear message and the right exit code, and nothing started. */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fixture, lab, labelledObjects, prepareRuntime, projectRoot, startLab } from './helpers.ts';
import { connectEngine } from '../../lab/runtime/docker/engine.ts';
import { folderForNobody, spawnAsNobody } from '../fixtures/as-nobody.ts';

describe('engine trouble', function () {
  before(prepareRuntime);

  it('no engine socket: exit 3 with what to do', () => {
    const run = lab(['run', 'scenarios/64k-myth.ts', '--quick'], { DOCKER_HOST: 'unix:///tmp/lab-no-engine.sock' });
    expect(run.status).to.equal(3);
    expect(run.stderr.trim()).to.match(/^lab: no Docker engine answers at \/tmp\/lab-no-engine\.sock \(ENOENT\): start Docker/);
    expect(run.stderr.trim().split('\n')).to.have.length(1);
  });

  it('permission denied on the socket: exit 3 naming the socket and the fix', () => {
    // The same lab, run as an unprivileged user (nobody), who may not use root's engine socket.
    // From a folder it may write its results in (its own, as a user's would be).
    const { checkoutAt, remove } = folderForNobody();
    const run = spawnAsNobody({
      checkoutAt,
      argv: ['env', 'HOME=/tmp', process.execPath, join(checkoutAt, 'bin/lab.js'), 'run', join(checkoutAt, 'scenarios/64k-myth.ts'), '--quick'],
      cwd: tmpdir(),
    });
    remove();
    expect(run.status, run.stderr).to.equal(3);
    expect(run.stderr.trim()).to.equal(
      'lab: permission denied on the Docker socket /var/run/docker.sock: add your user to the docker group (then log in again) or run the lab as root',
    );
  });

  it("an image build that fails: exit 4 with the failing step's output", async () => {
    const copy = mkdtempSync(join(tmpdir(), 'lab-broken-'));
    try {
      for (const part of ['bin', 'lab', 'images', 'Dockerfile.server', 'Dockerfile.client', 'package.json', 'tsconfig.json']) {
        cpSync(join(projectRoot, part), join(copy, part), { recursive: true });
      }
      symlinkSync(join(projectRoot, 'node_modules'), join(copy, 'node_modules'));
      const dockerfile = readFileSync(join(copy, 'Dockerfile.client'), 'utf8');
      writeFileSync(
        join(copy, 'Dockerfile.client'),
        dockerfile.replace(/^COPY images\/common/m, 'RUN echo "about to break the build" && exit 3\nCOPY images/common'),
      );
      const run = spawnSync(process.execPath, ['bin/lab.js', 'setup'], { cwd: copy, encoding: 'utf8' });
      expect(run.status, run.stdout + run.stderr).to.equal(4);
      expect(run.stderr).to.match(
        /^lab: building lab-client:\w+ from Dockerfile\.client failed: The command '\/bin\/sh -c echo "about to break the build" && exit 3' returned a non-zero code: 3/m,
      );
      expect(run.stderr).to.include('  | about to break the build');
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('an engine that stops mid-run: exit 4 saying so; once it is back, lab clean removes what was left', async () => {
    const run = startLab(['run', fixture('long-fill.ts')]);
    await run.waitFor(/client-1: \[[#.]+\] [1-9][\d,]*\//);
    spawnSync('pkill', ['-KILL', '-x', 'dockerd']);
    const result = await run.exited;
    expect(result.status, result.stdout + result.stderr).to.equal(4);
    expect(result.stderr).to.match(/^lab: the docker engine stopped answering during \w+: start it again, then run 'lab clean'/m);
    // The engine comes back the way the lab brings one up on a machine like this (root, Debian).
    await connectEngine(() => {});
    const clean = lab(['clean']);
    expect(clean.status, clean.stderr).to.equal(0);
    expect(clean.stdout).to.match(/network lab-\w+/);
    expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  });
});
