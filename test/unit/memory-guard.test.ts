import { expect } from 'chai';
import { parseMeminfo } from '../../lab/collect/meminfo.ts';
import { EnvironmentError } from '../../lab/errors.ts';
import { MemoryWatch, checkMemory, memoryFloorBytes, memoryVerdict } from '../../lab/run/memory-guard.ts';
import type { MachineShell } from '../../lab/runtime/runtime.ts';

const GIB = 1024 ** 3;
const MEMINFO = (availableKiB: number) =>
  `MemTotal:       24683520 kB\nMemFree:        19452032 kB\nMemAvailable:   ${availableKiB} kB\nBuffers:            7800 kB\n`;
const machine = { totalBytes: 24 * GIB, availableBytes: 22 * GIB };
const need = (connections: number) => ({ connections, cost: { bytes: 10_119, source: 'measured here' }, label: 'case 1 (c2m)' });

describe('the memory check: never into the OOM killer', () => {
  it('reads MemTotal and MemAvailable, in bytes; a meminfo without them reads as nothing', () => {
    expect(parseMeminfo(MEMINFO(22_664_548))).to.deep.equal({ totalBytes: 24_683_520 * 1024, availableBytes: 22_664_548 * 1024 });
    expect(parseMeminfo('MemTotal: 1 kB\n')).to.equal(undefined);
  });

  it('keeps a tenth of the machine free, never under 128 MiB', () => {
    expect(memoryFloorBytes(24 * GIB)).to.equal(Math.round(2.4 * GIB));
    expect(memoryFloorBytes(512 * 1024 ** 2)).to.equal(128 * 1024 ** 2);
  });

  it('sets connections x cost + the floor against what is available, with the arithmetic', () => {
    const fits = memoryVerdict(need(1_000_000), machine);
    expect(fits.fits).to.equal(true);
    const not = memoryVerdict(need(2_000_000), { ...machine, availableBytes: 20 * GIB });
    expect(not.fits).to.equal(false);
    expect(not.arithmetic).to.equal(
      'case 1 (c2m): 2,000,000 connections x 10,119 B (measured here) = 18.8 GiB + the 2.4 GiB the lab keeps free = 21.2 GiB, against 20.0 GiB available (MemAvailable of 24.0 GiB)',
    );
  });

  it('refuses a case that does not fit as an environment error (exit 3), unless the user lets it run to the floor', () => {
    const low = { ...machine, availableBytes: 20 * GIB };
    expect(() => checkMemory([need(2_000_000)], low, false, () => {})).to.throw(
      EnvironmentError,
      /^not enough memory: case 1 \(c2m\): 2,000,000 connections/,
    );
    const said: string[] = [];
    checkMemory([need(2_000_000)], low, true, (line) => said.push(line));
    expect(said).to.have.length(1);
    expect(said[0]).to.match(/going on \(--until-memory-floor\)/);
    expect(() => checkMemory([need(1_000)], low, false, () => {})).not.to.throw();
  });

  it('calls on every reading under the floor, with the first one, and says how low it went', async () => {
    const readings = [20_000_000, 3_000_000, 2_000_000, 1_900_000];
    let i = 0;
    const shell: MachineShell = async () => ({ exitCode: 0, stdout: MEMINFO(readings[Math.min(i++, readings.length - 1)]!), stderr: '' });
    const stops: number[] = [];
    const watch = new MemoryWatch(shell, (stop) => void stops.push(stop.availableBytes), 4);
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 3600));
    await watch.end();
    // The floor on a 23.5 GiB machine is 2.35 GiB: 2,000,000 kB is the first reading under it.
    expect(stops).to.deep.equal([2_000_000 * 1024, 2_000_000 * 1024]);
    expect(watch.lowestBytes).to.equal(1_900_000 * 1024);
    expect(watch.floorBytes).to.equal(Math.round((24_683_520 * 1024) / 10));
  }).timeout(8000);
});
