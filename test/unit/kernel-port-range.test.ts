/**
 * net.ipv4.ip_local_port_range as the kernel takes it (ipv4_local_port_range()), checked before anything starts:
 * what it refuses is refused here, and what it takes (one parity at both ends, a one-port range) is not.
 */
import { expect } from 'chai';
import { localPortRangeProblem } from '../../lab/scenario/port-range.ts';
import { sysctlValueProblem } from '../../lab/scenario/sysctls.ts';

const RANGE = 'net.ipv4.ip_local_port_range';

describe('ip_local_port_range as the kernel takes it (checked as a case is planned; the schema checks its shape)', () => {
  for (const taken of ['1024 1024', '1024 1025', '40000 40000', '40000 40998', '40001 40999', '32768 60999', '65535 65535']) {
    it(`takes "${taken}"`, () => expect(localPortRangeProblem(taken)).to.equal(undefined));
  }
  for (const refused of ['1 1', '1023 2000', '80 65535']) {
    it(`refuses "${refused}": its low end is below ip_unprivileged_port_start`, () =>
      expect(localPortRangeProblem(refused)).to.equal(`"${refused}": the kernel refuses a low end below net.ipv4.ip_unprivileged_port_start (1024)`));
  }
  it('refuses a high end below the low end, and ends outside 1-65535, as before', () => {
    expect(sysctlValueProblem(RANGE, '2000 1999')).to.match(/low end above its high end/);
    expect(sysctlValueProblem(RANGE, '0 100')).to.match(/within 1-65535/);
  });
  it('measures the low end against the ip_unprivileged_port_start it is given', () => {
    expect(localPortRangeProblem('500 600', 0)).to.equal(undefined);
    expect(localPortRangeProblem('1500 3000', 2000)).to.match(/below net\.ipv4\.ip_unprivileged_port_start \(2000\)$/);
  });
});
