/**
 * A node's engine over ssh (lab.engine=ssh://user@host[:port]), the way the docker CLI reaches one: an ssh
 * session that runs `docker system dial-stdio` on the node. The key comes from the ssh agent
 * (SSH_AUTH_SOCK); the node's host key must already be in ~/.ssh/known_hosts, as ssh would insist.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { EnvironmentError } from '../../errors.ts';

export function sshEngine(url: URL, node: string): Docker {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 22);
  const agent = process.env.SSH_AUTH_SOCK;
  if (!agent)
    throw new EnvironmentError(
      `node ${node}: ${url.href} needs an ssh agent holding its key, and SSH_AUTH_SOCK is unset`,
      'start one and add the key: eval "$(ssh-agent)" && ssh-add <key>',
    );
  const knownHosts = join(homedir(), '.ssh', 'known_hosts');
  const known = knownHostKeys(readOrNothing(knownHosts), host, port, knownHosts);
  if (!known.length) {
    throw new EnvironmentError(
      `node ${node}: ${hostPattern(host, port)} is not in ${knownHosts}: the lab does not trust a host key it has not seen`,
      `ssh to it once (ssh -p ${port} ${url.username || 'root'}@${host}), checking its key`,
    );
  }
  return new Docker({
    protocol: 'ssh',
    host,
    port,
    username: decodeURIComponent(url.username) || 'root',
    sshOptions: { agent, hostVerifier: (key: Buffer) => known.some((k) => k.equals(key)) },
  } as Docker.DockerOptions);
}

function readOrNothing(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** How known_hosts names a host: "host" on port 22, "[host]:port" on any other. */
function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * The host keys known_hosts holds for host:port (plain or hashed names; @revoked lines are never trusted,
 * @cert-authority lines are not host keys). Wildcard patterns are not read.
 */
export function knownHostKeys(text: string, host: string, port: number, file = 'known_hosts'): Buffer[] {
  const wanted = hostPattern(host, port);
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [names, , key] = fields;
    if (!names || !key || marker === '@cert-authority') continue;
    if (!names.split(',').some((name) => matches(name, wanted))) continue;
    const blob = Buffer.from(key, 'base64');
    if (!blob.length) throw new EnvironmentError(`${file}: a line for ${wanted} has no key`);
    (marker === '@revoked' ? revoked : keys).push(blob);
  }
  return keys.filter((k) => !revoked.some((r) => r.equals(k)));
}

/** A plain name, or a hashed one: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function matches(name: string, wanted: string): boolean {
  const hashed = /^\|1\|([^|]+)\|(.+)$/.exec(name);
  if (!hashed) return name === wanted;
  return createHmac('sha1', Buffer.from(hashed[1]!, 'base64')).update(wanted).digest('base64') === hashed[2];
}
