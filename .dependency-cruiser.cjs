const { readdirSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The lab's architecture, checked in `npm test` (depcruise lab bench): imports flow one way, and only a
 * runtime's own folder talks to an engine.
 *
 *   cli → run, report;  run → results → collect → runtime → plan → programs, proxy → scenario;  report → results
 *
 * lab/errors.ts, lab/abort.ts, lab/did-you-mean.ts, lab/run-id.ts, lab/run-ledger.ts and lab/subnet.ts are shared by
 * every layer.
 */

/** What each layer must never import: the layers above it (and report, which only the CLI uses). */
const above = {
  run: ['cli', 'report'],
  report: ['cli', 'run', 'runtime', 'collect'],
  results: ['cli', 'run', 'report'],
  collect: ['cli', 'run', 'report', 'results'],
  runtime: ['cli', 'run', 'report', 'results', 'collect'],
  plan: ['cli', 'run', 'report', 'results', 'collect', 'runtime'],
  programs: ['cli', 'run', 'report', 'results', 'collect', 'runtime', 'plan'],
  // A reverse proxy's configuration files and log lines (the programs' level: the plan writes them, the collectors read them).
  proxy: ['cli', 'run', 'report', 'results', 'collect', 'runtime', 'plan'],
  scenario: ['cli', 'run', 'report', 'results', 'collect', 'runtime', 'plan', 'programs', 'proxy'],
};
/** Every runtime folder there is (lab/runtime/<name>/): a new runtime falls under the rules below by existing. */
const runtimeFolders = readdirSync(join(__dirname, 'lab/runtime'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const anyRuntime = `(${runtimeFolders.join('|')})`;

/**
 * The only crossings between runtime folders, each a runtime built on another's parts; every other import
 * from one runtime folder into another is an error.
 */
const buildsOn = {
  // The VM runtime runs the netns runtime inside its VM: its sessions, on a machine that is the VM.
  vm: ['netns'],
  // Every node of a swarm is a Docker engine: the swarm runtime runs the docker runtime's sessions, labels,
  // clean-up and images on each node's engine.
  swarm: ['docker'],
};

module.exports = {
  forbidden: [
    ...Object.entries(above).map(([layer, forbidden]) => ({
      name: `${layer}-imports-upward`,
      comment: `lab/${layer} must not import lab/${forbidden.join(', lab/')}: imports flow one way`,
      severity: 'error',
      from: { path: `^lab/${layer}/` },
      to: { path: `^lab/(${forbidden.join('|')})/` },
    })),
    {
      name: 'engine-outside-its-runtime',
      comment: "only the Docker runtimes talk to dockerode: lab/runtime/docker/, and lab/runtime/swarm/ (Docker Swarm's engines)",
      severity: 'error',
      from: { pathNot: '^lab/runtime/(docker|swarm)/' },
      to: { path: 'node_modules/(dockerode|docker-modem)/' },
    },
    {
      name: 'processes-outside-runtimes',
      comment: 'only lab/runtime/ runs commands (ip, qemu, dockerd, cc): everything else asks a runtime',
      severity: 'error',
      from: { path: '^lab/', pathNot: '^lab/runtime/' },
      to: { path: ['^child_process$', '^node:child_process$', 'node_modules/zx/'] },
    },
    {
      name: 'runtime-internals',
      comment: 'the lab reaches runtimes through the registry (lab/runtime/runtimes.ts, select.ts), never a runtime folder',
      severity: 'error',
      from: { path: '^lab/', pathNot: '^lab/runtime/' },
      to: { path: `^lab/runtime/${anyRuntime}/` },
    },
    ...runtimeFolders.map((runtime) => {
      const others = runtimeFolders.filter((other) => other !== runtime && !(buildsOn[runtime] ?? []).includes(other));
      return {
        name: `runtime-${runtime}-apart`,
        comment: `lab/runtime/${runtime}/ does not reach into another runtime's folder${buildsOn[runtime] ? ` (it builds on lab/runtime/${buildsOn[runtime].join(', lab/runtime/')}/ only)` : ''}`,
        severity: 'error',
        from: { path: `^lab/runtime/${runtime}/` },
        to: { path: `^lab/runtime/(${others.join('|')})/` },
      };
    }),
    {
      name: 'no-circular',
      comment: 'no circle, type-only imports included: a type shared by two modules lives in a leaf both import',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '^test/' },
  },
};
