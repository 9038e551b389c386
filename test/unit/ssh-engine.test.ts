/** Which host keys the lab trusts for a node's ssh:// engine: known_hosts' plain and hashed names, never a revoked key. */
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { knownHostKeys } from '../../lab/runtime/swarm/ssh-engine.ts';

const key = (n: number) => Buffer.from(`ssh-ed25519 key ${n}`).toString('base64');
const hashed = (name: string) => {
  const salt = Buffer.from('0123456789abcdefghij');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

describe('known_hosts for ssh:// engines', () => {
  const text = [
    '# a comment',
    `10.0.0.12 ssh-ed25519 ${key(1)}`,
    `[10.0.0.12]:2222,other ssh-ed25519 ${key(2)}`,
    `${hashed('[127.0.0.1]:2222')} ssh-ed25519 ${key(3)}`,
    `@cert-authority 10.0.0.12 ssh-ed25519 ${key(4)}`,
    `[10.0.0.13]:2222 ssh-ed25519 ${key(5)}`,
    `@revoked [10.0.0.13]:2222 ssh-ed25519 ${key(5)}`,
    '',
  ].join('\n');
  const keys = (host: string, port: number) => knownHostKeys(text, host, port).map((k) => k.toString());

  it('names a host plainly on port 22 and as [host]:port on others', () => {
    expect(keys('10.0.0.12', 22)).to.deep.equal(['ssh-ed25519 key 1']);
    expect(keys('10.0.0.12', 2222)).to.deep.equal(['ssh-ed25519 key 2']);
  });

  it('matches hashed names (ssh-keygen -H), and nothing for a host it does not list', () => {
    expect(keys('127.0.0.1', 2222)).to.deep.equal(['ssh-ed25519 key 3']);
    expect(keys('127.0.0.1', 22)).to.deep.equal([]);
  });

  it('never trusts a revoked key, nor takes a certificate authority for a host key', () => {
    expect(keys('10.0.0.13', 2222)).to.deep.equal([]);
    expect(keys('10.0.0.12', 22)).not.to.include('ssh-ed25519 key 4');
  });
});
