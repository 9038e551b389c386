/** The matrix's memory by kernel: bytes per connection per kernel, slab object sizes per kernel, and what changed. */
import { expect } from 'chai';
import { buildMatrix } from '../../lab/report/matrix.ts';
import { matrixHtml } from '../../lab/report/matrix-html.ts';
import { matrixMarkdown } from '../../lab/report/matrix-markdown.ts';
import { sizeChange } from '../../lab/report/matrix-memory.ts';
import type { ExpectationResult, Results } from '../../lab/results/results.ts';
import { HOLD_PING, loadFixture } from '../fixtures/results/fixtures.ts';

const NOT_ON_RUNTIME = 'does not apply on this runtime: its hosts have no memory cgroup of their own';

/** The hold-ping run as if on another kernel, its first case having measured memory as socket-memory does in a VM. */
function onKernel(kernel: string, tcp: { objectSize: number; slabSize: number }, slabPerConnection: number): Results {
  const results = loadFixture(HOLD_PING);
  results.environment.kernel = kernel;
  const c = results.cases[0]!;
  const server = c.hosts.find((h) => h.role === 'server')!.name;
  const client = c.hosts.find((h) => h.role === 'client')!.name;
  const row = (metric: ExpectationResult['metric'], host: string, rest: Partial<ExpectationResult>): ExpectationResult => ({
    claim: `${metric} ${host}`,
    subject: host === server ? 'server' : 'each client',
    host,
    metric,
    predicted: { min: NaN, max: NaN },
    measured: NaN,
    pass: true,
    ...rest,
  });
  c.expectations.push(
    row('memory.cgroupBytesPerConnection', client, { notApplicable: NOT_ON_RUNTIME }),
    row('memory.cgroupBytesPerConnection', server, { notApplicable: NOT_ON_RUNTIME }),
    row('memory.slabBytesPerConnection', server, { predicted: { min: 7478, max: 11021 }, measured: slabPerConnection }),
  );
  c.memory!.slabCacheSizes = [
    { cache: 'TCP', ...tcp },
    { cache: 'sock_inode_cache', objectSize: 768, slabSize: 832 },
    { cache: 'eventpoll_epi', objectSize: 128, slabSize: 128, mergedInto: ':A-0000128' },
  ];
  return results;
}

describe('the kernel matrix: bytes per connection by kernel', () => {
  const runs = [
    onKernel('6.12.118+deb13-amd64', { objectSize: 2368, slabSize: 2432 }, 8301),
    onKernel('7.2.1+deb14-amd64', { objectSize: 2432, slabSize: 2432 }, 8290),
  ].map((results, i) => ({ file: `${i}.json`, results }));
  const matrix = buildMatrix(runs);
  const markdown = matrixMarkdown(matrix);
  const html = matrixHtml(matrix);

  it('tabulates per kernel what a connection cost, per end where measurable and both ends from the slab', () => {
    expect(markdown).to.include('## Bytes per connection by kernel');
    expect(markdown).to.include('| 6.12.118+deb13-amd64 | n/a on this runtime | n/a on this runtime | 8,301 B (7,478-11,021) pass |');
    expect(markdown).to.include('| TCP 2,432 B |');
  });

  it('charts the figures per kernel, a bar per kernel and the runtime\u2019s reason where there is no figure', () => {
    const chart = /<svg class="chart memory-by-kernel"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(chart).to.include('bytes per connection by kernel');
    expect(chart).to.include('data-label="6.12.118+deb13-amd64" data-value="8301"');
    expect(chart).to.include('data-label="7.2.1+deb14-amd64" data-value="8290"');
    expect(chart).to.include('n/a on this runtime');
    expect(markdown).to.not.include('<svg');
  });

  it('lists object sizes per cache per kernel and names each change from one kernel to the next', () => {
    expect(markdown).to.include('| TCP | 2,368 B (slab 2,432 B) | 2,432 B |');
    expect(markdown).to.include('| eventpoll_epi | 128 B (merged into :A-0000128) | 128 B (merged into :A-0000128) |');
    expect(markdown).to.include(
      '| 6.12.118+deb13-amd64 → 7.2.1+deb14-amd64 | TCP: object 2,368 → 2,432 B (+64 B), slab 2,432 → 2,432 B (±0 B); beyond the object: 64 → 0 B |',
    );
  });

  it('names changes only between kernels of one runtime: this machine\u2019s own build is not the VMs\u2019 next release', () => {
    const docker = onKernel('6.18.44-fc-v1300', { objectSize: 2304, slabSize: 2368 }, 8400);
    docker.environment.runtime = 'docker-elsewhere';
    const mixed = matrixMarkdown(buildMatrix([...runs, { file: 'h.json', results: docker }]));
    expect(mixed).to.include('| 6.12.118+deb13-amd64 → 7.2.1+deb14-amd64 | TCP: object 2,368 → 2,432 B');
    expect(mixed).to.not.include('→ 6.18.44-fc-v1300');
    expect(mixed).to.include('| TCP | 2,368 B (slab 2,432 B) | 2,304 B (slab 2,368 B) | 2,432 B |');
  });

  it('says nothing changed where no size did, and has no memory section without memory rows', () => {
    expect(sizeChange('TCP', { cache: 'TCP', objectSize: 2304, slabSize: 2368 }, { cache: 'TCP', objectSize: 2304, slabSize: 2368 })).to.equal(
      undefined,
    );
    expect(matrixMarkdown(buildMatrix([{ file: 'x.json', results: loadFixture(HOLD_PING) }]))).to.not.include('Bytes per connection by kernel');
  });
});
