/** `lab explain <scenario> [--quick]`: what a scenario claims, its story and what each case sets and expects. */
import { explainScenario } from '../../report/explain.ts';
import { loadScenario } from '../../scenario/load.ts';
import { EXIT } from '../exit-codes.ts';

export async function explainCommand(file: string, flags: { quick?: boolean }): Promise<number> {
  const scenario = await loadScenario(file);
  process.stdout.write(explainScenario(scenario, file, !!flags.quick) + '\n');
  return EXIT.pass;
}
