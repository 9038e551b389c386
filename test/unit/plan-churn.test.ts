/** A churn in several processes: labchurn's --processes in the plan, and a split of the rate planning refuses. */
import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { planCase } from '../../lab/plan/plan.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import type { ClientSpec, Scenario } from '../../lab/scenario/types.ts';

const FILE = 'scenarios/churn.ts';
const options = { runId: 'r1', subnet: '198.18.7.0/24', quick: false, nofileCeiling: 20000, file: FILE };

function churning(client: ClientSpec): Scenario {
  return defineScenario({
    name: 'churn',
    claim: 'a claim',
    server: { ports: [8080] },
    client: { churn: { rate: 6000, seconds: 1 } },
    expect: [{ claim: 'c', subject: 'each client', metric: 'opened', predict: () => 6000 }],
    cases: [{ name: 'the case', client }],
  });
}

describe('planning a churn in several processes', () => {
  it('gives labchurn --processes where the case asks for several, and leaves it out for one', () => {
    const four = planCase(churning({ processes: 4 }), 0, options).clients[0]!;
    expect(four.processes).to.equal(4);
    expect(four.program.slice(four.program.indexOf('--processes'), four.program.indexOf('--processes') + 2)).to.deep.equal(['--processes', '4']);
    const one = planCase(churning({}), 0, options).clients[0]!;
    expect(one.processes).to.equal(1);
    expect(one.program).to.not.include('--processes');
  });

  it('refuses more processes than connections a second, naming the field', () => {
    expect(() => planCase(churning({ processes: 4, churn: { rate: 3, seconds: 1 } }), 0, options)).to.throw(
      InputError,
      /cases\[0\]\.client\.processes: 4 processes share a churn of 3 a second: at most 3/,
    );
  });
});
