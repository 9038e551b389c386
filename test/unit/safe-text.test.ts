/**
 * A case named with control characters (\u0001, ESC[31m, \u0008): every writer shows it safely, through one
 * function. The terminal gets no ESC but its own colours, summary.md and report.html none at all, and the
 * JUnit file stays XML 1.0 (xmllint accepts it) with the characters in a visible form.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { terminalView } from '../../lab/cli/run-view.ts';
import { escapeHtml, safeText } from '../../lab/report/escape.ts';
import { renderHtml } from '../../lab/report/html.ts';
import { junitXml } from '../../lab/report/junit.ts';
import { renderMarkdown } from '../../lab/report/markdown.ts';
import { renderResults } from '../../lab/report/table.ts';
import type { Results } from '../../lab/results/results.ts';
import type { CaseInfo } from '../../lab/run/events.ts';
import { ensurePackages, findCommand } from '../../lab/runtime/debian-packages.ts';
import { KERNEL_618, loadFixture } from '../fixtures/results/fixtures.ts';

const HOSTILE = 'one \u0001client, \u001b[31mred\u001b[0m\u0008 \u009b2J\u202egnp.exe';
const SHOWN = 'one \\x01client, \\x1b[31mred\\x1b[0m\\x08 \\x9b2J\\u202egnp.exe';
/** What must never reach a person raw: C0 but tab and newline, DEL, C1, bidi overrides. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hostile(): Results {
  const results = loadFixture(KERNEL_618);
  const first = results.cases[0]!;
  first.name = HOSTILE;
  first.expectations[0]!.claim = `claim ${HOSTILE}`;
  first.expectations[0]!.pass = false;
  results.claim = `the claim ${HOSTILE}`;
  return results;
}

describe('names with control characters, shown safely by every writer', () => {
  it('safeText: each control character visible (\\x1b), tabs and newlines kept, non-characters as U+FFFD; twice is once', () => {
    expect(safeText(HOSTILE)).to.equal(SHOWN);
    expect(safeText('a\tb\nc\rd\u007f')).to.equal('a\tb\nc\\x0dd\\x7f');
    expect(safeText('x\ufffey\uffffz\ud800!\udc00')).to.equal('x\ufffdy\ufffdz\ufffd!\ufffd');
    expect(safeText('naïve 日本 \u{1f600}')).to.equal('naïve 日本 \u{1f600}');
    expect(safeText(safeText(HOSTILE))).to.equal(SHOWN);
    expect(escapeHtml(`<${HOSTILE}>`)).to.equal(`&lt;${SHOWN}&gt;`);
  });

  it('JUnit: xmllint accepts the file (XML 1.0 forbids these even escaped), the name in its visible form', async () => {
    const xml = junitXml([hostile()]);
    expect(xml).not.to.match(RAW);
    expect(xml).to.include(`classname="64k-myth.${SHOWN}"`);
    expect(xml).to.include(`name="claim ${SHOWN} (`);
    await ensurePackages([{ package: 'libxml2-utils', command: 'xmllint' }], 'checking JUnit XML', () => {}).catch(() => undefined);
    const xmllint = findCommand('xmllint');
    if (xmllint) {
      const dir = mkdtempSync(join(tmpdir(), 'lab-junit-'));
      try {
        const file = join(dir, 'junit.xml');
        writeFileSync(file, xml);
        const lint = spawnSync(xmllint, ['--noout', file], { encoding: 'utf8' });
        expect(lint.status, lint.stderr).to.equal(0);
        expect(lint.stderr).to.equal('');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // And without xmllint: every character one XML 1.0 allows (Char production), escaped or not.
    const allowed = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
    expect(allowed.test(xml)).to.equal(true);
    for (const [, code] of xml.matchAll(/&#x?([0-9a-f]+);/gi)) expect(Number.parseInt(code!, 16)).to.be.at.least(0x20);
  });

  it('summary.md: no control character anywhere, the name visible', () => {
    const markdown = renderMarkdown(hostile(), { story: `a story ${HOSTILE}` });
    expect(markdown).not.to.match(RAW);
    expect(markdown).to.include(`## Case 1/4: ${SHOWN}: `);
    expect(markdown).to.include(`| claim ${SHOWN} |`);
  });

  it('report.html: no control character anywhere, the name visible', () => {
    const html = renderHtml(hostile(), { story: `a story ${HOSTILE}` });
    expect(html).not.to.match(RAW);
    expect(html).to.include(`Case 1/4: ${SHOWN} <span`);
  });

  it('the terminal: its own colours, and no ESC of the name', () => {
    const plain = renderResults(hostile(), false);
    expect(plain).not.to.match(RAW);
    expect(plain).to.include(`Case 1/4: ${SHOWN}`);
    // As on a terminal: Node paints only where the stream is one, or where FORCE_COLOR says to.
    const force = process.env.FORCE_COLOR;
    process.env.FORCE_COLOR = '1';
    let coloured: string;
    try {
      coloured = renderResults(hostile(), true);
    } finally {
      if (force === undefined) delete process.env.FORCE_COLOR;
      else process.env.FORCE_COLOR = force;
    }
    expect(coloured).to.include(SHOWN);
    // What ESC there is opens or closes our styles (bold, dim, red, green), never the name's [31m ... [0m.
    const escapes = [...coloured.matchAll(/\u001b\[(\d+)m/g)].map((m) => m[1]);
    expect(escapes.length).to.be.greaterThan(0);
    expect(coloured.replace(/\u001b\[\d+m/g, '')).not.to.match(RAW);
    expect(coloured.replace(/\u001b\[\d+m/g, '')).to.equal(plain);
  });

  it('the live view: the case title and the lab: lines without a raw control character', async () => {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const view = terminalView(false);
      view.log?.(`placement: ${HOSTILE}`);
      const info = {
        index: 0,
        total: 1,
        name: HOSTILE,
        plan: { server: { name: 'server' }, clients: [{ name: 'client-1' }] },
        phases: [{ name: 'observe', title: `Observe ${HOSTILE}` }],
        ceilings: { 'client-1': 10 },
      } as unknown as CaseInfo;
      await view.caseStarting?.(info);
      await view.phaseFinished?.(info, info.phases[0]!, { hosts: [] });
      await view.caseFinished?.(info, { hosts: [] } as never);
    } finally {
      process.stdout.write = write;
    }
    const shown = written.join('');
    expect(shown).to.include(`lab: placement: ${SHOWN}`);
    expect(shown).to.include(`Case 1/1: ${SHOWN}`);
    expect(shown).to.include(`Observe ${SHOWN}`);
    expect(shown.replace(/\u001b\[\d+(;\d+)*m/g, '')).not.to.match(RAW);
  });
});
