/**
 * What the lab needs from the machine's packages: on a Debian machine where we are root (as on the lab's CI
 * machines) it installs what is missing with apt-get, saying so; anywhere else it stops with an
 * EnvironmentError that tells the user what to install.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { $ } from 'zx';
import { EnvironmentError } from '../errors.ts';
import type { Log } from './runtime.ts';

/** Whether the lab may install Debian packages here (LAB_ENGINE_SETUP=never forbids it). */
export function mayInstallPackages(): boolean {
  return process.env.LAB_ENGINE_SETUP !== 'never' && process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version');
}

export async function aptInstall(packages: string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await $({ quiet: true, env })`apt-get update -qq`;
    // Another apt (a second lab, unattended-upgrades) may hold dpkg's lock for a while: wait for it.
    await $({ quiet: true, env })`apt-get -o DPkg::Lock::Timeout=300 install -y -qq ${packages}`;
  } catch (error) {
    const e = error as { stderr?: string };
    throw new EnvironmentError(`apt-get install ${packages.join(' ')} failed: ${(e.stderr ?? String(error)).trim().split('\n').pop()}`);
  }
}

/** The path of a command found on PATH (plus the sbin directories, which a non-root PATH may lack). */
export function findCommand(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** A need: the command must exist (or `present` says so), else the Debian package provides it. */
export interface PackageNeed {
  package: string;
  command?: string;
  present?: () => boolean;
}

/** One install at a time in this process: the matrix prepares several VMs at once, and dpkg has one lock. */
let installing: Promise<unknown> = Promise.resolve();

/** Installs the packages of the needs that are not met, or says which are missing. */
export function ensurePackages(needs: PackageNeed[], purpose: string, log: Log): Promise<void> {
  const turn = installing.then(() => installMissing(needs, purpose, log));
  installing = turn.catch(() => undefined);
  return turn;
}

async function installMissing(needs: PackageNeed[], purpose: string, log: Log): Promise<void> {
  const missing = needs.filter((n) => (n.present ? !n.present() : !findCommand(n.command ?? n.package)));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((n) => n.package))];
  if (!mayInstallPackages()) {
    throw new EnvironmentError(
      `${purpose} needs ${packages.join(', ')}, which this machine lacks`,
      `install them (Debian: apt-get install ${packages.join(' ')}); on Debian as root the lab installs them itself`,
    );
  }
  log(`${purpose}: installing ${packages.join(', ')} (apt-get)`);
  await aptInstall(packages);
}

export interface AptSources {
  /** The main archive, e.g. http://deb.debian.org/debian */
  main?: string;
  /** The security archive, e.g. http://deb.debian.org/debian-security */
  security?: string;
}

/** Reads the archives from deb822 (.sources) or one-line (sources.list) text. */
export function parseAptSources(text: string): AptSources {
  const sources: AptSources = {};
  const uris = [
    ...[...text.matchAll(/^URIs:\s*(.+)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/)),
    ...[...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)].map((m) => m[1] ?? ''),
  ];
  for (const uri of uris.map((u) => u.replace(/\/+$/, ''))) {
    if (!/^https?:\/\//.test(uri)) continue;
    if (uri.includes('security')) sources.security ??= uri;
    else sources.main ??= uri;
  }
  return sources;
}

export async function aptSources(): Promise<AptSources> {
  const sources: AptSources = {};
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const found = parseAptSources(await readFile(file, 'utf8'));
    sources.main ??= found.main;
    sources.security ??= found.security;
  }
  return sources;
}

export async function aptMirror(): Promise<string> {
  const { main } = await aptSources();
  if (!main) throw new EnvironmentError('cannot find a Debian mirror in /etc/apt to debootstrap the base image from');
  return main;
}
