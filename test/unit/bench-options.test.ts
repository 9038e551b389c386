/** The bench's command line (bench/options.ts): what each flag sets, and what ends the bench with its usage. */
import { join } from 'node:path';
import { expect } from 'chai';
import { root } from '../../bench/context.ts';
import { parseOptions } from '../../bench/options.ts';

/** What the bench says on stderr for argv, and its exit code: parseOptions ends the process instead of returning. */
function ending(...argv: string[]): { lines: string[]; code: number } {
  const lines: string[] = [];
  const { exit } = process;
  const { error } = console;
  process.exit = ((code: number) => {
    throw Object.assign(new Error('exit'), { code });
  }) as typeof process.exit;
  console.error = (line: string) => void lines.push(line);
  try {
    parseOptions(argv);
  } catch (e) {
    return { lines, code: (e as { code: number }).code };
  } finally {
    process.exit = exit;
    console.error = error;
  }
  throw new Error(`parseOptions(${argv.join(' ')}) returned`);
}

describe('bench options', () => {
  it('runs every part but hold three times by default, into bench/results/latest.json', () => {
    expect(parseOptions([])).to.deep.equal({
      parts: ['rate', 'node', 'rss', 'overhead', 'demo'],
      quick: false,
      reps: 3,
      out: join(root, 'bench/results/latest.json'),
      maxWaitS: 90,
      demoCases: undefined,
      demoBare: false,
      holdSizes: [10_000, 100_000, 300_000, 1_000_000],
    });
  });

  it('runs hold only when asked, at the sizes --hold-sizes gives (10000, 10k or 1M)', () => {
    expect(parseOptions(['--only', 'hold', '--hold-sizes', '10000,100k,1.5M']))
      .to.include({ reps: 3 })
      .and.to.deep.include({
        parts: ['hold'],
        holdSizes: [10_000, 100_000, 1_500_000],
      });
  });

  it('takes --only and --skip as comma-separated parts, in the bench order', () => {
    expect(parseOptions(['--only', 'demo,rate', '--skip=demo']).parts).to.deep.equal(['rate']);
    expect(parseOptions(['--skip', 'rss, overhead']).parts).to.deep.equal(['rate', 'node', 'demo']);
  });

  it('makes --quick one repetition unless --reps says otherwise', () => {
    expect(parseOptions(['--quick']).reps).to.equal(1);
    expect(parseOptions(['--quick', '--reps', '5']).reps).to.equal(5);
  });

  it('counts --demo-cases from 1', () => {
    expect(parseOptions(['--demo-cases', '1,3', '--demo-bare']))
      .to.include({ demoBare: true })
      .and.to.have.deep.property('demoCases', [0, 2]);
  });

  it('ends with the usage, and 0, on --help', () => {
    const { lines, code } = ending('--max-wait', '5', '-h');
    expect(code).to.equal(0);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^usage: npm run bench -- \[--only rate,node,rss,overhead,demo,hold\]/);
  });

  for (const [argv, message] of [
    [['--only', 'bogus'], "unknown part(s) 'bogus': choose from rate, node, rss, overhead, demo, hold"],
    [['--only'], "unknown part(s) 'undefined': choose from rate, node, rss, overhead, demo, hold"],
    [['--hold-sizes', '10k,lots'], '--hold-sizes takes counts of 1000 to 2,000,000 connections, comma-separated (10000, 10k, 1M)'],
    [['--hold-sizes', '3M'], '--hold-sizes takes counts of 1000 to 2,000,000 connections, comma-separated (10000, 10k, 1M)'],
    [['--reps', '16'], '--reps must be 1..15'],
    [['--demo-cases', '0'], '--demo-cases takes case numbers from 1, comma-separated'],
    [['--out'], '--out needs a file'],
    [['-hq'], 'unknown argument -hq'],
    [['--', '--quick'], 'unknown argument --'],
  ] as const) {
    it(`refuses ${argv.join(' ')} with 2`, () => {
      const { lines, code } = ending(...argv);
      expect(code).to.equal(2);
      expect(lines[0]).to.equal(`bench: ${message}`);
      expect(lines[1]).to.match(/^usage: /);
    });
  }
});
