/**
 * The ledger behind --raise-conntrack and --raise-file-max, and behind a case that lowers nf_conntrack_max,
 * on a file standing in for the sysctl: two runs raising at once, the last to end puts the value back, a dead
 * run's raise or lowering is put back by the next one; a lowering only where no other run holds it set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HeldSysctl } from '../../lab/runtime/docker/raised-sysctl.ts';
import { namespaceEntries } from '../../lab/runtime/docker/conntrack.ts';

describe('a machine sysctl raised for a while (the ledger)', () => {
  let dir: string;
  let file: string;
  let ledger: string;
  let sysctl: HeldSysctl;
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  const value = () => Number(readFileSync(file, 'utf8'));
  const fresh = () => ({ original: sysctl.value(), holders: {} });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-sysctl-'));
    file = join(dir, 'file-max');
    ledger = join(dir, 'run', 'file-max.json');
    writeFileSync(file, '1000\n');
    sysctl = new HeldSysctl('fs.file-max', file, ledger, '--raise-file-max');
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

  const WHY = 'for this case (machine-wide: the kernel keeps one per machine)';

  it('lowers it for a run, says so, and puts it back; never raises it', async () => {
    const restore = await sysctl.lower('run1', 400, log, fresh, WHY);
    expect(value()).to.equal(400);
    expect(lines).to.deep.equal([`lowered fs.file-max from 1000 to 400 ${WHY}`]);
    expect(await sysctl.lasting(), 'as it stays once the run ends').to.equal(1000);
    await restore();
    await restore();
    expect(value()).to.equal(1000);
    expect(lines).to.deep.equal([`lowered fs.file-max from 1000 to 400 ${WHY}`, "restored the host's fs.file-max from 400 to 1000"]);
    expect(existsSync(ledger)).to.equal(false);
    const above = await sysctl.lower('run2', 5000, log, fresh, WHY);
    expect(value(), 'a lowering never raises it').to.equal(1000);
    expect(lines.at(-1)).to.equal('fs.file-max is 1000 already, not above 5000: left as it is');
    await above();
  });

  it('lets go once: two calls at once put it back once, and an old put-back never undoes a later hold', async () => {
    const first = await sysctl.lower('run1', 400, log, fresh, WHY);
    await Promise.all([first(), first()]);
    expect(lines.filter((line) => line.startsWith('restored'))).to.deep.equal(["restored the host's fs.file-max from 400 to 1000"]);
    const second = await sysctl.lower('run1', 300, log, fresh, WHY);
    await first();
    expect(value(), "the next case's lowering still held").to.equal(300);
    await second();
    expect(value()).to.equal(1000);
  });

  it('refuses to lower it while another live run holds it set, and changes nothing', async () => {
    const raised = await sysctl.raise('run1', 5000, log, fresh);
    let refused: Error | undefined;
    await sysctl.lower('run2', 400, log, fresh, WHY).catch((error: Error) => (refused = error));
    expect(refused?.message).to.equal('cannot lower fs.file-max to 400: lab run(s) run1 hold it set (5000 now) and may need more');
    expect(value()).to.equal(5000);
    expect(Object.keys(JSON.parse(readFileSync(ledger, 'utf8')).holders)).to.deep.equal(['run1']);
    const own = await sysctl.lower('run1', 400, log, fresh, WHY).catch((error: Error) => error);
    expect((own as Error).message, 'nor where the run itself raised it').to.equal(
      'cannot lower fs.file-max to 400: this run raised it (--raise-file-max) for its other cases',
    );
    await raised();
    expect(value()).to.equal(1000);
  });

  it('a run that raises it while another holds it lowered raises it, and the last one out puts the original back', async () => {
    const lowered = await sysctl.lower('run1', 400, log, fresh, WHY);
    const raised = await sysctl.raise('run2', 5000, log, fresh);
    expect(value()).to.equal(5000);
    await lowered();
    expect(value(), 'run2 still holds it').to.equal(5000);
    await raised();
    expect(value()).to.equal(1000);
  });

  it('a lowering left by a lab that died is put back by reclaim (lab clean), and says it was lowered', async () => {
    await sysctl.lower('run1', 400, log, fresh, WHY);
    const dead = spawnSync('true').pid!;
    const held = JSON.parse(readFileSync(ledger, 'utf8'));
    expect(Object.keys(held.holders)).to.deep.equal(['run1/lowered']);
    writeFileSync(ledger, JSON.stringify({ ...held, holders: { 'run1/lowered': dead } }));
    expect(await sysctl.reclaim(log)).to.deep.equal(['fs.file-max back to 1000']);
    expect(value()).to.equal(1000);
    expect(lines.at(-1)).to.equal("restored the host's fs.file-max from 400 to 1000 (left lowered by a lab run that is gone)");
  });

  it('names a sysctl under /proc/sys by its key', () => {
    expect(new HeldSysctl('nf_conntrack_max', '/proc/sys/net/netfilter/nf_conntrack_max', ledger, '--raise-conntrack').key).to.equal(
      'net.netfilter.nf_conntrack_max',
    );
  });
});

describe("a namespace's conntrack entries (/proc/<pid>/net/stat/nf_conntrack)", () => {
  it("reads the first column, the namespace's own count repeated on each CPU's line (hexadecimal)", () => {
    const header =
      'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart';
    const line = (entries: string) =>
      `${entries}  00000000 00000000 00000000 0007d66e 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000`;
    expect(namespaceEntries([header, line('000005dc'), line('000005dc')].join('\n'))).to.equal(1500);
    expect(namespaceEntries(''), 'not readable').to.equal(undefined);
    expect(namespaceEntries(header), 'no CPU line').to.equal(undefined);
  });
});
