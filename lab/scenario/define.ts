import type { Scenario, ScenarioSpec } from './types.ts';

/** What a scenario file exports by default: `export default defineScenario({...})`. */
export function defineScenario(spec: ScenarioSpec): Scenario {
  return { ...spec, kind: 'lab.scenario' };
}

export function isScenario(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'lab.scenario';
}
