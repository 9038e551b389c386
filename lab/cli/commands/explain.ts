/** `lab explain <scenario> [--quick]`: what a scenario claims, its story and what each case sets and expects. */
import { explainScenario } from '../../report/explain.ts';
import { findScenario, loadScenario } from '../../scenario/load.ts';
import { EXIT } from '../exit-codes.ts';

export async function explainCommand(nameOrFile: string, flags: { quick?: boolean }): Promise<number> {
  const file = findScenario(nameOrFile);
  const scenario = await loadScenario(file);
  process.stdout.write(explainScenario(scenario, file, !!flags.quick) + '\n');
  return EXIT.pass;
}
