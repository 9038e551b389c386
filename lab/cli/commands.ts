/**
 * Every `lab` command as data: its arguments, options, summary and examples, and the handler that calls
 * its function in commands/. A command's module is imported when it runs, so that parsing, help and the
 * tests of this table load none of Docker, listr or the runtimes (but `lab run --help`, which lists them).
 */
import type { MatrixFlags } from './commands/matrix.ts';
import type { RunFlags } from './commands/run.ts';
import { defineCommand, exactly, type Choice, type Program } from './args.ts';

/** The registered runtimes, for --runtime's help: loaded only when that help is shown. */
async function runtimeChoices(): Promise<Choice[]> {
  const { registeredRuntimes } = await import('../runtime/runtimes.ts');
  return registeredRuntimes().map((r) => ({ name: r.name, summary: r.isDefault ? `${r.summary} (the default)` : r.summary }));
}

const run = defineCommand({
  name: 'run',
  summary: 'Run a scenario against a real kernel and set the results against theory',
  positionals: [{ name: 'scenario', kind: 'required' }],
  options: [
    { name: 'quick', kind: 'boolean', description: 'Narrow ranges and counts: the same laws in seconds' },
    { name: 'json', kind: 'string', valueName: 'file', description: 'Also write the results JSON to this file' },
    { name: 'case', kind: 'string', valueName: 'name', description: 'Run only the case with this name' },
    { name: 'step', kind: 'boolean', description: 'Pause before each case and say what it will show (for presenters)' },
    {
      name: 'raise-conntrack',
      kind: 'boolean',
      description: "Let the lab raise the host's nf_conntrack_max (and its hash) for a run that needs it (restored afterwards)",
    },
    {
      name: 'notrack',
      kind: 'boolean',
      description: "Exempt the run's subnet from connection tracking instead (NOTRACK rules in the raw tables, deleted afterwards)",
    },
    {
      name: 'raise-file-max',
      kind: 'boolean',
      description: "Let the lab raise the machine's fs.file-max for a run whose connections need more open files (restored afterwards)",
    },
    {
      name: 'until-memory-floor',
      kind: 'boolean',
      description: 'Run a case the memory check refuses: its flood stops where available memory falls to the floor the lab keeps free',
    },
    { name: 'runtime', kind: 'string', valueName: 'name', description: 'Where the hosts run, one of:', choices: runtimeChoices },
    {
      name: 'family',
      kind: 'string',
      valueName: 'family',
      description: "Every case over this IP family, whatever the scenario says: ipv4, ipv6 (in the run's own ULA /64) or dual (both side by side)",
    },
    {
      name: 'swarm',
      kind: 'boolean',
      description: 'Across the nodes of the Docker Swarm DOCKER_HOST manages: the server on one node, the clients on the others',
    },
    {
      name: 'kernel',
      kind: 'string',
      valueName: 'version',
      description:
        'Run in a qemu VM on another kernel: a Debian release (5.10 to 7.3-rc, or latest: the newest the mirror has), or a path to a kernel image; host for this one',
    },
    {
      name: 'report',
      kind: 'string',
      valueName: 'dir',
      description: 'Write results JSON, Markdown and HTML here (default: ./results/<scenario>-<run id>/)',
    },
    { name: 'junit', kind: 'string', valueName: 'file', description: 'Also write the expectations as JUnit XML (one test case each) for CI' },
  ],
  examples: [
    'lab run scenarios/64k-myth.ts',
    'lab run scenarios/64k-myth.ts --quick --case "4 clients, default range"',
    'lab run scenarios/64k-myth.ts --quick --family ipv6',
    'lab run scenarios/time-wait.ts --kernel 5.10 --report results/time-wait-5.10',
  ],
  run: async ({ scenario }, flags) => (await import('./commands/run.ts')).runCommand(scenario, exactly<RunFlags>()(flags)),
});

const clean = defineCommand({
  name: 'clean',
  summary: 'Remove containers and networks left by runs (found by their lab.run label)',
  positionals: [],
  options: [
    { name: 'run', kind: 'string', valueName: 'id', description: 'Remove only what this run left' },
    { name: 'force', kind: 'boolean', description: 'Remove runs whose lab is still running too (they then fail, saying so)' },
  ],
  examples: ['lab clean', 'lab clean --run mwxgpni3d229', 'lab clean --force'],
  run: async (_, flags) => (await import('./commands/clean.ts')).cleanCommand(exactly<{ run?: string; force?: boolean }>()(flags)),
});

const setup = defineCommand({
  name: 'setup',
  summary: 'Get the Docker engine, the base image and the lab images ready (run does this too)',
  positionals: [],
  options: [],
  examples: ['lab setup'],
  run: async () => (await import('./commands/setup.ts')).setupCommand(),
});

const report = defineCommand({
  name: 'report',
  summary: 'Render summary.md and report.html again from a results JSON file',
  positionals: [{ name: 'results', kind: 'required' }],
  options: [{ name: 'out', kind: 'string', valueName: 'dir', description: "Write them here (default: the results file's folder)" }],
  examples: ['lab report results/64k-myth-mwxgpni3d229/results.json', 'lab report results/64k-myth-mwxgpni3d229/results.json --out /tmp/64k-myth'],
  run: async ({ results }, flags) => (await import('./commands/report.ts')).reportCommand(results, exactly<{ out?: string }>()(flags)),
});

const compare = defineCommand({
  name: 'compare',
  summary: 'Set runs side by side (one kernel against another); exit 1 when a verdict differs',
  positionals: [
    { name: 'a', kind: 'required' },
    { name: 'b', kind: 'required' },
    { name: 'more', kind: 'variadic' },
  ],
  options: [{ name: 'markdown', kind: 'string', valueName: 'file', description: 'Also write the comparison as Markdown to this file' }],
  examples: [
    'lab compare matrix-results/5.10/64k-myth.json matrix-results/6.12/64k-myth.json',
    'lab compare a.json b.json c.json --markdown comparison.md',
  ],
  run: async ({ a, b, more }, flags) =>
    (await import('./commands/compare.ts')).compareCommand([a, b, ...more], exactly<{ markdown?: string }>()(flags)),
});

const matrix = defineCommand({
  name: 'matrix',
  summary: 'Run scenarios on several kernels (VMs) and write one report marking where kernels differ',
  positionals: [{ name: 'scenarios', kind: 'variadic' }],
  options: [
    {
      name: 'kernels',
      kind: 'string',
      valueName: 'list',
      description:
        'Kernels, comma-separated: Debian releases such as 6.1 or 7.3-rc and latest (VMs), paths to kernel images, host (Docker); all: every named release and host',
    },
    { name: 'quick', kind: 'boolean', description: 'Run every scenario in quick mode' },
    {
      name: 'out',
      kind: 'string',
      valueName: 'dir',
      description: 'Results per kernel and matrix.md / matrix.html here (default: results/matrix-<time>/)',
    },
    { name: 'from', kind: 'string', valueName: 'dir', description: 'Render the report from the results files under this folder instead of running' },
    { name: 'parallel', kind: 'number', valueName: 'n', description: 'Kernels run at once (default: the number of cores)' },
    {
      name: 'rounds',
      kind: 'number',
      valueName: 'n',
      description: 'Run each scenario n times on each kernel: the report gives the median and spread (default 1)',
    },
    { name: 'case', kind: 'string', valueName: 'name', description: 'Run only the case with this name (each scenario must have it)' },
    {
      name: 'cpus',
      kind: 'string',
      valueName: 'list',
      description: "vCPUs of each VM, comma-separated: each kernel runs once per count (default 1); host keeps this machine's",
    },
    { name: 'junit', kind: 'string', valueName: 'file', description: "Also write every run's expectations as JUnit XML for CI" },
  ],
  examples: [
    'lab matrix scenarios/*.ts --kernels 5.10,6.1,6.12,host --quick',
    'lab matrix scenarios/port-range.ts scenarios/socket-port-range.ts --kernels all --quick',
    'lab matrix scenarios/socket-port-range.ts --case "the cost of connect() as a per-socket 40000-49999 fills" --kernels all --rounds 5 --quick',
    'lab matrix scenarios/connect-churn.ts --kernels all --cpus 1,2 --quick',
    'lab matrix scenarios/64k-myth.ts --kernels 6.1,6.12 --parallel 2 --out results/matrix',
    'lab matrix --from matrix-results --out matrix-report',
  ],
  run: async ({ scenarios }, flags) => (await import('./commands/matrix.ts')).matrixCommand(scenarios, exactly<MatrixFlags>()(flags)),
});

const list = defineCommand({
  name: 'list',
  summary: "List the lab's own scenarios and this folder's (or those in dir): file, name, cases, claim",
  positionals: [{ name: 'dir', kind: 'optional' }],
  options: [],
  examples: ['lab list', 'lab list test/fixtures/scenarios'],
  run: async ({ dir }) => (await import('./commands/list.ts')).listCommand(dir),
});

const explain = defineCommand({
  name: 'explain',
  summary: 'Say what a scenario claims, its story, and what each case sets and expects',
  positionals: [{ name: 'scenario', kind: 'required' }],
  options: [{ name: 'quick', kind: 'boolean', description: 'Show the cases as --quick runs them, with their quick overrides' }],
  examples: ['lab explain scenarios/64k-myth.ts', 'lab explain scenarios/c1m.ts --quick'],
  run: async ({ scenario }, flags) => (await import('./commands/explain.ts')).explainCommand(scenario, exactly<{ quick?: boolean }>()(flags)),
});

const localSwarm = defineCommand({
  name: 'local-swarm',
  summary: 'A Docker Swarm of several engines on this machine (network namespaces), to try runs across nodes',
  positionals: [{ name: 'action', kind: 'required' }],
  options: [{ name: 'nodes', kind: 'number', valueName: 'n', description: 'Engines in the swarm, the first its manager (up; default 3)' }],
  examples: ['lab local-swarm up', 'lab local-swarm up --nodes 4', 'lab local-swarm status', 'lab local-swarm down'],
  run: async ({ action }, flags) => (await import('./commands/local-swarm.ts')).localSwarmCommand(action, exactly<{ nodes?: number }>()(flags)),
});

const create = defineCommand({
  name: 'new',
  summary: 'Write a typed starting scenario here (one case, one expectation), and a tsconfig.json for editors',
  positionals: [{ name: 'name', kind: 'required' }],
  options: [],
  examples: ['lab new my-check'],
  run: async ({ name }) => (await import('./commands/new.ts')).newCommand(name),
});

export const LAB: Program = {
  name: 'lab',
  summary: 'where TCP connection limits come from, shown with real kernels and real sockets',
  commands: [run, clean, setup, report, compare, matrix, list, explain, create, localSwarm],
  examples: [
    'lab list',
    'lab explain scenarios/64k-myth.ts',
    'lab run scenarios/64k-myth.ts --quick',
    'lab matrix scenarios/*.ts --kernels 5.10,6.1,6.12,host --quick',
    'lab compare matrix-results/5.10/64k-myth.json matrix-results/6.12/64k-myth.json',
  ],
};
