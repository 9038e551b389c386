/**
 * The file a scenario was loaded from, for what must load it again elsewhere: the run judges a scenario's
 * predict() in a worker thread, which cannot be handed functions and loads the file itself. A scenario made
 * in code (tests, the API) has none.
 */
import type { Scenario } from './types.ts';

const sources = new WeakMap<Scenario, string>();

export function rememberSource(scenario: Scenario, path: string): Scenario {
  sources.set(scenario, path);
  return scenario;
}

/** The absolute path the scenario was loaded from, if loadScenario loaded it. */
export function sourceOf(scenario: Scenario): string | undefined {
  return sources.get(scenario);
}
