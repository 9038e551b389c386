/**
 * The ledger behind --raise-conntrack and --raise-file-max, on a file standing in for the sysctl: two runs
 * raising at once, the last to end puts the value back, a dead run's raise is put back by the next one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RaisedSysctl } from '../../lab/runtime/docker/raised-sysctl.ts';

describe('a machine sysctl raised for a while (the ledger)', () => {
  let dir: string;
  let file: string;
  let ledger: string;
  let sysctl: RaisedSysctl;
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  const value = () => Number(readFileSync(file, 'utf8'));
  const fresh = () => ({ original: sysctl.value(), holders: {} });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-sysctl-'));
    file = join(dir, 'file-max');
    ledger = join(dir, 'run', 'file-max.json');
    writeFileSync(file, '1000\n');
    sysctl = new RaisedSysctl('fs.file-max', file, ledger, '--raise-file-max');
    lines.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('raises it for a run, says so, and the run puts it back; never lowers it', async () => {
    const restore = await sysctl.raise('run1', 5000, log, fresh);
    expect(value()).to.equal(5000);
    expect(lines).to.deep.equal(["raised the host's fs.file-max from 1000 to 5000 for this run (--raise-file-max)"]);
    const lower = await sysctl.raise('run2', 10, log, fresh);
    expect(value()).to.equal(5000);
    expect(await sysctl.lasting(), 'as it stays once the runs end').to.equal(1000);
    await lower();
    expect(value(), 'run1 still holds it').to.equal(5000);
    await restore();
    expect(value()).to.equal(1000);
    expect(lines.at(-1)).to.equal("restored the host's fs.file-max from 5000 to 1000");
    expect(existsSync(ledger), 'nothing held: no ledger').to.equal(false);
  });

  it('a run whose lab is gone: the next run, or reclaim (lab clean), puts the value back', async () => {
    await sysctl.raise('run1', 5000, log, fresh);
    const dead = spawnSync('true').pid!;
    const held = JSON.parse(readFileSync(ledger, 'utf8'));
    writeFileSync(ledger, JSON.stringify({ ...held, holders: { run1: dead } }));
    expect(await sysctl.lasting()).to.equal(5000);
    expect(await sysctl.reclaim(log)).to.deep.equal(['fs.file-max back to 1000']);
    expect(value()).to.equal(1000);
    expect(lines.at(-1)).to.equal("restored the host's fs.file-max from 5000 to 1000 (left raised by a lab run that is gone)");
    expect(await sysctl.reclaim(log), 'nothing more to do').to.deep.equal([]);
  });

  it('a value changed by hand while nothing held it raised is the new original', async () => {
    const restore = await sysctl.raise('run1', 5000, log, fresh);
    await restore();
    writeFileSync(file, '3000\n');
    const again = await sysctl.raise('run2', 6000, log, fresh);
    await again();
    expect(value()).to.equal(3000);
  });
});
