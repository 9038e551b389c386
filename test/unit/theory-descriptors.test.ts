/** The descriptors law (lab/scenario/theory/descriptors.ts): each connection end is a descriptor under RLIMIT_NOFILE. */
import { expect } from 'chai';
import { acceptedPlusQueues, clientFdCeiling, descriptorsLeft, serverAccepts } from '../../lab/scenario/theory/descriptors.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { MissingFigure } from '../../lab/scenario/theory/prediction.ts';
import type { ServerTheory, TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

const server = (overrides: Partial<ServerTheory> = {}): ServerTheory => ({
  ip: '198.18.0.2',
  ports: [80],
  backlog: 128,
  workers: 1,
  nofile: 1024,
  openFilesAtStart: 5,
  ...overrides,
});
const context = (s: ServerTheory): TheoryContext => ({ kernel: kernelRelease('6.18.44'), clients: [], server: s });

describe('descriptors left for connections (descriptors.ts)', () => {
  it('is the open-file limit less what the process held before its first socket', () => {
    expect(descriptorsLeft({ nofile: 1024, openFilesAtStart: 5 })).to.deep.include({ min: 1019, max: 1019 });
  });

  it('is no figure at all until the program reported what it held (never a guess)', () => {
    expect(() => descriptorsLeft({ nofile: 1024 }))
      .to.throw()
      .that.satisfies((e: unknown) => MissingFigure.is(e));
  });

  it('gives a client each flood process its own limit, at most what it asks', () => {
    expect(clientFdCeiling(clientTheoryOf('client-1', { nofile: 1024, openFilesAtStart: 4, processes: 1, asked: 5000 }))).to.deep.include({
      min: 1020,
      max: 1020,
    });
    expect(clientFdCeiling(clientTheoryOf('client-1', { nofile: 1024, openFilesAtStart: 4, processes: 3, asked: 5000 }))).to.deep.include({
      min: 3060,
      max: 3060,
    });
    expect(clientFdCeiling(clientTheoryOf('client-1', { nofile: 1024, openFilesAtStart: 4, processes: 3, asked: 2000 })).max).to.equal(2000);
  });

  it('gives the server each worker its own limit', () => {
    expect(serverAccepts(context(server({ workers: 2 })))).to.deep.include({ min: 2038, max: 2038 });
  });

  it('adds a full accept queue (backlog + 1) per listener to what the server accepted', () => {
    // 2 ports x 2 workers: four listeners of backlog 128, each full at 129.
    expect(acceptedPlusQueues(context(server({ workers: 2, ports: [80, 443] })))).to.deep.include({ min: 2038 + 4 * 129, max: 2038 + 4 * 129 });
  });
});
