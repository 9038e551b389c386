import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { parseResults } from '../../lab/report/read.ts';
import { fixtureDir, HOLD_PING, KERNEL_618, NOT_RESULTS } from '../fixtures/results/fixtures.ts';

const FILE = 'runs/x.json';

function refusal(text: string): InputError {
  try {
    parseResults(text, FILE);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return error as InputError;
  }
  throw new Error('the document was accepted');
}

/** A fixture's document, changed by `edit`, as text. */
function edited(file: string, edit: (doc: Record<string, any>) => void): string {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  edit(doc);
  return JSON.stringify(doc);
}

describe('results schema: a malformed results file is one line naming the file and the field', () => {
  it('refuses a document with a case and nothing else, at its first missing field', () => {
    const error = refusal('{"schema":"lab.results/1","cases":[{"name":"x"}]}');
    expect(error.file).to.equal(FILE);
    expect(error.field).to.equal('scenario');
    expect(error.message).to.equal(`${FILE}: scenario: missing or not a string`);
  });

  it('names the field path inside cases and hosts', () => {
    expect(refusal(edited(KERNEL_618, (d) => delete d.cases[0].hosts)).message).to.equal(`${FILE}: cases[0].hosts: missing or not a list`);
    expect(refusal(edited(KERNEL_618, (d) => (d.cases[1].hosts[0].estab = '12'))).message).to.equal(
      `${FILE}: cases[1].hosts[0].estab: missing or not a number`,
    );
    expect(refusal(edited(KERNEL_618, (d) => (d.cases[0].hosts[0].sysctls['net.core.somaxconn'] = 4096))).message).to.equal(
      `${FILE}: cases[0].hosts[0].sysctls["net.core.somaxconn"]: missing or not a string`,
    );
    expect(refusal(edited(KERNEL_618, (d) => (d.cases[0].expectations[0].subject = 'nobody'))).field).to.equal('cases[0].expectations[0].subject');
    expect(refusal(edited(KERNEL_618, (d) => (d.environment = 'docker'))).message).to.equal(`${FILE}: environment: missing or not an object`);
  });

  it('keeps the messages for what is not a results document at all', () => {
    expect(refusal('{').message).to.match(/^runs\/x\.json: not a lab results document: not JSON \(/);
    expect(refusal('[1]').message).to.equal(`${FILE}: not a lab results document: not a JSON object`);
    expect(refusal('{"schema":"lab.results/2"}').message).to.equal(
      `${FILE}: schema: not a lab results document: schema is "lab.results/2", expected "lab.results/1"`,
    );
    expect(() => parseResults(readFileSync(NOT_RESULTS, 'utf8'), NOT_RESULTS)).to.throw(
      InputError,
      `${NOT_RESULTS}: schema: not a lab results document: no schema field, expected "lab.results/1"`,
    );
  });

  it('reads every results fixture', () => {
    const files = readdirSync(fixtureDir).filter((f) => f.endsWith('.json') && f !== 'not-results.json');
    expect(files).to.have.length.of.at.least(3);
    for (const f of files) expect(parseResults(readFileSync(fixtureDir + f, 'utf8'), f).schema, f).to.equal('lab.results/1');
  });

  it('reads older files without the fields newer labs write, and keeps fields it does not know', () => {
    const older = edited(HOLD_PING, (d) => {
      for (const c of d.cases) {
        delete c.memory;
        delete c.milestones;
        for (const h of c.hosts)
          for (const field of ['flood', 'accepted', 'listenBacklog', 'programRssKiB', 'openFilesAtStart', 'boundPortsBefore']) delete h[field];
      }
      delete d.environment.namespaceDefaults;
      d.cases[0].fromANewerLab = { figure: 1 };
    });
    const read = parseResults(older, FILE);
    expect(read.cases[0]).to.not.have.property('milestones');
    expect(read.cases[0]).to.have.deep.property('fromANewerLab', { figure: 1 });
  });

  it('turns what JSON could not hold back into Infinity and NaN: an open max, a row the theory could not predict', () => {
    const read = parseResults(
      edited(KERNEL_618, (d) =>
        Object.assign(d.cases[0].expectations[0], { predicted: { min: null, max: null }, measured: null, invalid: 'not measured' }),
      ),
      FILE,
    );
    const row = read.cases[0]!.expectations[0]!;
    expect(row.predicted.max).to.equal(Infinity);
    expect(row.predicted.min).to.be.NaN;
    expect(row.measured).to.be.NaN;
  });
});
