import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseResults } from '../../lab/report/read.ts';
import { junitXml } from '../../lab/report/junit.ts';

const fixture = (name: string) => parseResults(readFileSync(new URL(`../fixtures/results/${name}`, import.meta.url), 'utf8'), name);

describe('JUnit XML', () => {
  it('has one test case per expectation and host, failures and invalid rows apart', () => {
    const results = fixture('64k-myth-6.18.44.json');
    const rows = results.cases.flatMap((c) => c.expectations);
    const first = results.cases[0]!;
    first.expectations[0]!.pass = false;
    first.expectations[1]!.invalid = 'client-1 lost mid-run';
    const text = junitXml([results]);
    expect(text.match(/<testcase /g)).to.have.length(rows.length);
    expect(text).to.contain(`tests="${rows.length}" failures="1" errors="1"`);
    expect(text.match(/<failure /g)).to.have.length(1);
    expect(text).to.match(/<error message="client-1 lost mid-run">/);
    expect(text).to.contain(`classname="64k-myth.${first.name}"`);
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).to.equal(true);
  });

  it('escapes what it takes from the results', () => {
    const results = fixture('64k-myth-6.18.44.json');
    results.cases[0]!.expectations[0]!.claim = 'a <b> & "c"';
    expect(junitXml([results])).to.contain('name="a &lt;b&gt; &amp; &quot;c&quot; (');
  });
});
