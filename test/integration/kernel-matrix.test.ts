/**
 * Scenarios on kernels other than this machine's: Debian's 5.10, 6.12 and 7.3-rc booted under qemu, the same
 * scenario file, results that carry the VM's kernel, and a matrix report that marks where kernels differ.
 * The VMs have no network device to the outside; every connection stays between namespaces inside them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { lab, labQemus, namespacesNamed } from './helpers.ts';

const SCENARIO = 'scenarios/socket-port-range.ts';
const TIMED_CASE = 'the cost of connect() as a per-socket 40000-49999 fills';

describe('scenarios on other kernels, in VMs', function () {
  let dir: string;
  const results = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-kernels-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the quick scenario on Debian 5.10, which has no IP_LOCAL_PORT_RANGE: every setsockopt fails with ENOPROTOOPT', () => {
    const run = lab(['run', SCENARIO, '--quick', '--kernel', '5.10', '--json', join(dir, '5.10.json')], { CI: 'true' });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    const r = results('5.10.json');
    expect(r.environment.runtime).to.equal('vm');
    expect(r.environment.kernel).to.match(/^5\.10\.\d+-\d+-amd64$/);
    expect(r.environment.kernelVersion).to.match(/Debian 5\.10\.\d+/);
    expect(r.environment.namespaceDefaults['net.ipv4.ip_local_port_range']).to.equal('32768 60999');
    const client = r.cases[0].hosts.find((h: { role: string }) => h.role === 'client');
    expect(client.estab).to.equal(0);
    expect(client.bindErrors.ENOPROTOOPT).to.equal(client.flood.asked);
    expect(r.pass).to.equal(true);
  });

  it('runs it on Debian 6.12, where a per-socket range of 999 ports holds all 999', () => {
    const run = lab(
      ['run', SCENARIO, '--quick', '--kernel', '6.12', '--case', 'odd-sized per-socket 40000-40998', '--json', join(dir, '6.12.json')],
      { CI: 'true' },
    );
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    const r = results('6.12.json');
    expect(r.environment.kernel).to.match(/^6\.12\./);
    const [server, client] = r.cases[0].hosts;
    expect(client.estab).to.equal(999);
    expect(server.estab).to.equal(999);
    expect(client.sysctls['net.ipv4.ip_local_port_range']).to.equal('32768 60999');
  });

  it("runs it on Debian's 7.3 release candidate (a kernel split in three packages): connect() costs the same at 90% as on an empty range", () => {
    const run = lab(['run', SCENARIO, '--quick', '--kernel', '7.3-rc', '--case', TIMED_CASE, '--json', join(dir, '7.3-rc.json')], { CI: 'true' });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    const r = results('7.3-rc.json');
    expect(r.environment.kernel).to.equal('7.3-amd64');
    expect(r.environment.kernelVersion).to.match(/Debian 7\.3~rc\d+/);
    const client = r.cases[0].hosts.find((h: { role: string }) => h.role === 'client');
    expect(client.estab).to.equal(4000);
    const cost = client.flood.connectCost;
    expect(cost.ports).to.equal(4000);
    expect(cost.calls.reduce((a: number, b: number) => a + b, 0)).to.equal(4000);
    // The program's own histograms, read independently of the lab's arithmetic: median µs at 4-8% and at 90-94%.
    const median = (buckets: Array<Array<[number, number]>>) => {
      const bins = buckets.flat().sort((a, b) => a[0] - b[0]);
      const total = bins.reduce((n, [, c]) => n + c, 0);
      let seen = 0;
      return bins.find(([, c]) => (seen += c) >= total / 2)![0];
    };
    const [sparse, crowded] = [median(cost.us.slice(2, 4)), median(cost.us.slice(45, 47))];
    expect(sparse).to.be.above(0);
    expect(crowded / sparse, `median ${crowded} µs at 90% against ${sparse} µs at 2%`).to.be.below(2);
  });

  it('leaves no VM and no namespace behind', () => {
    expect(labQemus()).to.deep.equal([]);
    expect(namespacesNamed('lab-')).to.deep.equal([]);
  });

  it('renders one matrix from the results and marks where the kernels differ', () => {
    const matrix = lab(['matrix', '--from', dir, '--out', join(dir, 'report')]);
    expect(matrix.status, matrix.stderr).to.equal(0);
    const markdown = readFileSync(join(dir, 'report', 'matrix.md'), 'utf8');
    const where = markdown.slice(markdown.indexOf('## Where kernels differ'));
    expect(where).to.match(/odd-sized per-socket 40000-40998 \| the client holds .*\| 0 \(0\) pass \| 999 \(999\) pass \|/);
    expect(readFileSync(join(dir, 'report', 'matrix.html'), 'utf8')).to.include('Where kernels differ');
  });

  it('refuses kernels it does not know, and --kernel with the docker runtime, before starting anything', () => {
    for (const args of [
      ['--kernel', '9.99'],
      ['--runtime', 'docker', '--kernel', '6.1'],
      ['--runtime', 'lxc'],
    ]) {
      const run = lab(['run', SCENARIO, '--quick', ...args]);
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      expect(run.stderr).to.match(/--kernel|--runtime/);
    }
    const matrix = lab(['matrix', SCENARIO]);
    expect(matrix.status).to.equal(2);
    expect(matrix.stderr).to.include('--kernels');
    expect(labQemus()).to.deep.equal([]);
  });
});
