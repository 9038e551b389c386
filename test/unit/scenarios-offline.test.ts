/**
 * Every scenario without an engine, in seconds: each scenarios/*.ts loads, every case plans in both modes,
 * and every expectation's predict() gives a prediction (or names the figure only a run reads) on the facts
 * of 5.10, 6.1, 6.12 and 6.18. A broken scenario or law shows here before any container starts.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Scenario } from '../../lab/index.ts';
import { KERNEL_FACTS } from '../fixtures/kernel-facts.ts';

const scenariosDir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const files = readdirSync(scenariosDir)
  .filter((name) => name.endsWith('.ts'))
  .sort();
const NOFILE_CEILING = 20000;

// As ES modules, as bin/lab.js loads the lab: the loader tsx gives scenario files is an ES module's.
const { planCase } = await import('../../lab/plan/plan.ts');
const { checkPredictions, plannedContext } = await import('../../lab/run/evaluate.ts');
const { loadScenario } = await import('../../lab/scenario/load.ts');

describe('every scenario, planned and predicted without an engine', function () {
  it('finds the scenarios', () => expect(files.length).to.be.at.least(10));

  for (const name of files) {
    describe(name, function () {
      let scenario: Scenario;
      const file = join(scenariosDir, name);
      before(async () => {
        scenario = await loadScenario(file);
      });

      for (const quick of [false, true]) {
        it(`plans every case ${quick ? 'in quick mode' : 'in full'} and predicts each on ${Object.keys(KERNEL_FACTS).join(', ')}`, () => {
          expect(scenario.cases.length).to.be.at.least(1);
          scenario.cases.forEach((_, index) => {
            const plan = planCase(scenario, index, { runId: 'offline', subnet: '198.18.0.0/24', quick, nofileCeiling: NOFILE_CEILING, file });
            expect(plan.clients.length, `case ${index}`).to.be.at.least(1);
            for (const facts of Object.values(KERNEL_FACTS)) {
              const context = { ...plannedContext(plan, facts.kernel), slabObjectSizes: facts.slabObjectSizes, tracked: true };
              checkPredictions(plan, context, file, (i) => `cases[${index}].expect[${i}] on ${facts.kernel.name}`);
            }
          });
        });
      }
    });
  }
});
