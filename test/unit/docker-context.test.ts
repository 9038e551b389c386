/** The docker CLI's context as DOCKER_HOST: the current one's endpoint, DOCKER_HOST first, default untouched. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { adoptDockerContext } from '../../lab/runtime/docker-context.ts';

describe('docker contexts', () => {
  let dir: string;
  const context = (name: string, host: string | undefined, tls = false) => {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(
      join(dir, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: host ? { Host: host, SkipTLSVerify: false } : {} } }),
    );
    if (tls) mkdirSync(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true });
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-docker-config-'));
    context('myswarm', 'ssh://lab@10.0.0.11');
    context('secure', 'tcp://10.0.0.12:2376', true);
    context('empty', undefined);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the current context's endpoint, from config.json or DOCKER_CONTEXT", () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'myswarm' }));
    const env: NodeJS.ProcessEnv = { DOCKER_CONFIG: dir };
    expect(adoptDockerContext(env)).to.equal('myswarm');
    expect(env.DOCKER_HOST).to.equal('ssh://lab@10.0.0.11');
    const chosen: NodeJS.ProcessEnv = { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'myswarm' };
    adoptDockerContext(chosen);
    expect(chosen.DOCKER_HOST).to.equal('ssh://lab@10.0.0.11');
  });

  it('leaves DOCKER_HOST as it is, and the default context (or none) means the local engine', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'myswarm' }));
    const set: NodeJS.ProcessEnv = { DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///run/x.sock' };
    expect(adoptDockerContext(set)).to.equal(undefined);
    expect(set.DOCKER_HOST).to.equal('unix:///run/x.sock');
    const byDefault: NodeJS.ProcessEnv = { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'default' };
    expect(adoptDockerContext(byDefault)).to.equal(undefined);
    expect(byDefault).not.to.have.property('DOCKER_HOST');
    expect(adoptDockerContext({ DOCKER_CONFIG: join(dir, 'none') })).to.equal(undefined);
  });

  it('refuses, in one line, a context it cannot follow: unknown, without an endpoint, or with TLS', () => {
    expect(() => adoptDockerContext({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'nosuch' })).to.throw(
      /docker context "nosuch" \(DOCKER_CONTEXT\) has no docker endpoint/,
    );
    expect(() => adoptDockerContext({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'empty' })).to.throw(/has no docker endpoint/);
    expect(() => adoptDockerContext({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'secure' })).to.throw(/uses TLS certificates/);
  });
});
