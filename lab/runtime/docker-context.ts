/**
 * The docker CLI's current context, for the lab's engine clients, which read only DOCKER_HOST: where that is
 * unset, DOCKER_CONTEXT or the CLI's currentContext (in $DOCKER_CONFIG/config.json, else ~/.docker) names
 * a context whose docker endpoint becomes DOCKER_HOST. "default" is the engine DOCKER_HOST's absence means.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.ts';

interface ContextMeta {
  Endpoints?: { docker?: { Host?: string } };
}

/** Sets DOCKER_HOST from the current docker context, where one other than default is chosen; returns its name. */
export function adoptDockerContext(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DOCKER_HOST) return undefined;
  const configDir = env.DOCKER_CONFIG || join(homedir(), '.docker');
  const configFile = join(configDir, 'config.json');
  const name = env.DOCKER_CONTEXT || readJson<{ currentContext?: string }>(configFile)?.currentContext;
  if (!name || name === 'default') return undefined;
  const source = env.DOCKER_CONTEXT ? 'DOCKER_CONTEXT' : `currentContext in ${configFile}`;
  const id = createHash('sha256').update(name).digest('hex');
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
  const host = readJson<ContextMeta>(metaFile)?.Endpoints?.docker?.Host;
  if (!host)
    throw new EnvironmentError(
      `docker context "${name}" (${source}) has no docker endpoint in ${metaFile}`,
      'docker context ls shows the contexts there; or set DOCKER_HOST',
    );
  if (existsSync(join(configDir, 'contexts', 'tls', id))) {
    throw new EnvironmentError(
      `docker context "${name}" (${source}) uses TLS certificates, which the lab does not read from a context`,
      `set DOCKER_HOST=${host}, DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH instead`,
    );
  }
  env.DOCKER_HOST = host;
  return name;
}

function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new EnvironmentError(`${file} is not JSON`, 'fix or remove it');
  }
}
