/**
 * The host's conntrack ceiling, for real: with the engine's bridge traffic tracked (br_netfilter, as Docker
 * sets it up here), every lab connection takes a host-wide entry. The tests lower nf_conntrack_max to just
 * above what is in use, so a 1,000-connection case would cross it, and put the machine's value back after.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { CONNTRACK_LEDGER } from '../../lab/runtime/docker/conntrack.ts';
import { lab, labelledObjects, prepareRuntime, startLab } from './helpers.ts';

const MAX = '/proc/sys/net/netfilter/nf_conntrack_max';
const COUNT = '/proc/sys/net/netfilter/nf_conntrack_count';
const readNumber = (path: string) => Number(readFileSync(path, 'utf8').trim());
const NOTHING = { containers: [], networks: [] };
const ONE_CLIENT = ['run', 'scenarios/64k-myth.ts', '--quick', '--case', '1 client, default range'];
const RAISED = /raised the host's nf_conntrack_max from (\d+) to (\d+)/;

describe("the host's conntrack ceiling", function () {
  let machineMax: number;
  let lowered: number;

  before(async function () {
    await prepareRuntime();
    expect(readNumber('/proc/sys/net/bridge/bridge-nf-call-iptables'), 'bridged traffic is tracked on this machine').to.equal(1);
    machineMax = readNumber(MAX);
  });

  beforeEach(() => {
    // Room for what is tracked now and 500 more: a quick case asks for 1,016 connections.
    lowered = readNumber(COUNT) + 500;
    writeFileSync(MAX, String(lowered));
  });

  after(() => {
    lab(['clean']);
    writeFileSync(MAX, String(machineMax));
    rmSync(CONNTRACK_LEDGER, { force: true });
  });

  it('a run that would cross it is refused (exit 3) before anything starts, and says how to go on', () => {
    const result = lab(ONE_CLIENT);
    expect(result.status, result.stderr).to.equal(3);
    expect(result.stderr).to.match(/nf_conntrack_max is \d+/);
    expect(result.stderr).to.include('--raise-conntrack');
    expect(readNumber(MAX)).to.equal(lowered);
  });

  it('--raise-conntrack: raised for the run, which passes, and put back afterwards', () => {
    const result = lab([...ONE_CLIENT, '--raise-conntrack']);
    expect(result.status, result.stderr).to.equal(0);
    const [, from, to] = RAISED.exec(result.stdout) ?? [];
    expect(Number(from)).to.equal(lowered);
    expect(Number(to), "room for the case's 1,016 connections").to.be.at.least(lowered - 500 + 1016);
    expect(result.stdout).to.include(`restored the host's nf_conntrack_max from ${to} to ${lowered}`);
    expect(readNumber(MAX)).to.equal(lowered);
    expect(existsSync(CONNTRACK_LEDGER)).to.equal(false);
  });

  it('two labs raising it at once: the first to end leaves it raised for the other, the last puts it back', async () => {
    const first = startLab([...ONE_CLIENT, '--raise-conntrack'], { LAB_HOLD_PHASE: 'flood' });
    await first.waitFor(/holding before flood/, 120_000);
    const raised = readNumber(MAX);
    expect(raised).to.be.above(lowered);
    // The second sees the ceiling raised, but only for as long as the first runs: it must hold it too.
    const second = startLab([...ONE_CLIENT, '--raise-conntrack'], { LAB_HOLD_PHASE: 'flood' });
    await second.waitFor(/holding before flood/, 120_000);
    first.signal('SIGINT');
    expect((await first.exited).status).to.equal(130);
    expect(readNumber(MAX), 'still raised while the second run holds it').to.be.at.least(raised);
    second.signal('SIGINT');
    expect((await second.exited).status).to.equal(130);
    expect(readNumber(MAX)).to.equal(lowered);
    expect(existsSync(CONNTRACK_LEDGER)).to.equal(false);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });

  it('a lab SIGKILLed with it raised: lab clean puts it back', async () => {
    const run = startLab([...ONE_CLIENT, '--raise-conntrack'], { LAB_HOLD_PHASE: 'flood' });
    await run.waitFor(/holding before flood/, 120_000);
    const raised = readNumber(MAX);
    expect(raised).to.be.above(lowered);
    run.signal('SIGKILL');
    await run.exited;
    expect(readNumber(MAX), 'nobody was left to restore it').to.equal(raised);
    const clean = lab(['clean']);
    expect(clean.status, clean.stderr).to.equal(0);
    expect(clean.stdout).to.include(`nf_conntrack_max back to ${lowered}`);
    expect(clean.stderr).to.include('left raised by a lab run that is gone');
    expect(readNumber(MAX)).to.equal(lowered);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });

  it('a lab SIGKILLed with it raised: the next run puts it back before it checks', async () => {
    const run = startLab([...ONE_CLIENT, '--raise-conntrack'], { LAB_HOLD_PHASE: 'flood' });
    await run.waitFor(/holding before flood/, 120_000);
    run.signal('SIGKILL');
    await run.exited;
    expect(readNumber(MAX)).to.be.above(lowered);
    const next = lab(ONE_CLIENT);
    expect(next.stdout + next.stderr).to.match(/restored the host's nf_conntrack_max from \d+ to \d+ \(left raised by a lab run that is gone\)/);
    expect(next.status, next.stderr).to.equal(3);
    expect(readNumber(MAX)).to.equal(lowered);
    expect(lab(['clean']).status).to.equal(0);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});
