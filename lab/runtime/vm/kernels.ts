/**
 * Finds the kernel a VM boots: a Debian release ('5.10', '6.1', '6.12': the current kernel of bullseye,
 * bookworm or trixie, fetched from the machine's apt mirror), a kernel .deb, or a vmlinuz image.
 * Downloads and extractions are cached under ~/.cache/lab/kernels; a second call does no network.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { $ } from 'zx';
import { EnvironmentError } from '../../errors.ts';
import { cacheDir, cached } from '../cache.ts';
import { aptSources, ensurePackages } from '../debian-packages.ts';
import type { Log } from '../runtime.ts';

export interface Kernel {
  release: string;
  vmlinuz: string;
  /** lib/modules/<release>, or undefined for a bare image whose modules are nowhere (all built in, then). */
  modulesDir: string | undefined;
}

export const KERNEL_SUITES: Record<string, string> = { '5.10': 'bullseye', '6.1': 'bookworm', '6.12': 'trixie' };
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const HINT = `give one of ${Object.keys(KERNEL_SUITES).join(', ')}, a path to a linux-image .deb, or a path to a vmlinuz`;

// ---- pure parts ----

export type Stanza = Record<string, string>;

/** One deb822 paragraph: "Field: value" lines, continuation lines start with a space. */
export function parseStanza(text: string): Stanza {
  const stanza: Stanza = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && last) {
      stanza[last] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    stanza[last] = line.slice(colon + 1).trim();
  }
  return stanza;
}

/** The stanza of `name` in a Packages index (the highest version if it appears more than once), if any. */
export function findPackage(packages: string, name: string): Stanza | undefined {
  let best: Stanza | undefined;
  for (const paragraph of packages.split(/\n\s*\n/)) {
    if (!paragraph.startsWith(`Package: ${name}\n`) && !paragraph.includes(`\nPackage: ${name}\n`)) continue;
    const stanza = parseStanza(paragraph);
    if (stanza.Package !== name) continue;
    if (!best || compareVersions(stanza.Version ?? '', best.Version ?? '') > 0) best = stanza;
  }
  return best;
}

/** The real image package a linux-image-amd64 metapackage depends on (not -unsigned, not -dbg). */
export function imagePackageOf(metapackage: Stanza): string | undefined {
  const depends = (metapackage.Depends ?? '').split(/[,|]/).map((d) => d.trim().split(/\s/)[0] ?? '');
  return depends.find((d) => /^linux-image-\d\S*-amd64$/.test(d) && !/-(unsigned|dbg)/.test(d));
}

export function releaseOfPackage(name: string): string {
  return name.replace(/^linux-image-/, '').replace(/-unsigned$/, '');
}

/** Orders version strings by their runs of digits, then text: enough for Debian kernel versions. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.match(/\d+|[^\d]+/g) ?? [];
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    // Debian's ~ sorts before anything, even the end of the version.
    if (x === undefined) return y?.startsWith('~') ? 1 : -1;
    if (y === undefined) return x.startsWith('~') ? -1 : 1;
    const nx = /^\d/.test(x) ? Number(x) : NaN;
    const ny = /^\d/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      if (x.startsWith('~') !== y.startsWith('~')) return x.startsWith('~') ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** The release string (uname -r) an x86 bzImage carries in its setup header. */
export function bzImageRelease(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const at = image.readUInt16LE(0x20e) + 0x200;
  const end = image.indexOf(0, at);
  if (end < 0) return undefined;
  return image.toString('latin1', at, end).split(' ')[0] || undefined;
}

/** Where the compressed kernel is inside a bzImage, and how it is compressed. */
export function bzImagePayload(image: Buffer): { data: Buffer; format: 'xz' | 'zstd' } | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const setupSectors = image[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  // The build appends the uncompressed size (4 bytes) to xz and zstd payloads; the tools reject it.
  const data = image.subarray(start, start + length - 4);
  if (data.subarray(0, 6).equals(Buffer.from('fd377a585a00', 'hex'))) return { data, format: 'xz' };
  if (data.subarray(0, 4).equals(Buffer.from('28b52ffd', 'hex'))) return { data, format: 'zstd' };
  return undefined;
}

// ---- fetching and caching ----

export async function resolveKernel(spec: string, log: Log): Promise<Kernel> {
  if (KERNEL_SUITES[spec]) return debianKernel(spec, KERNEL_SUITES[spec]!, log);
  const path = resolve(spec);
  if (!existsSync(path)) throw new EnvironmentError(`kernel ${spec}: not a known release nor an existing file`, HINT);
  if (path.endsWith('.deb')) return kernelFromDeb(path, log);
  return kernelFromImage(path, log);
}

async function debianKernel(spec: string, suite: string, log: Log): Promise<Kernel> {
  const remembered = cacheDir('kernels', `debian-${spec}`);
  if (existsSync(remembered)) {
    const release = (await readFile(remembered, 'utf8')).trim();
    const dir = cacheDir('kernels', release);
    if (existsSync(dir)) return kernelIn(dir, release);
  }
  const sources = await aptSources();
  const main = sources.main ?? DEFAULT_MIRROR;
  const security = sources.security ?? main.replace(/\/debian$/, '/debian-security');
  log(`finding the kernel of Debian ${suite} (${spec}) on ${main}`);
  const candidates: { archive: string; stanza: Stanza; image: Stanza }[] = [];
  for (const [archive, dist] of [[main, suite], [security, `${suite}-security`]] as const) {
    const url = `${archive}/dists/${dist}/main/binary-amd64/Packages.xz`;
    const packages = await fetchPackages(url, archive === main, log);
    if (packages === undefined) continue;
    const meta = findPackage(packages, 'linux-image-amd64');
    const imageName = meta && imagePackageOf(meta);
    const image = imageName && findPackage(packages, imageName);
    if (meta && image) candidates.push({ archive, stanza: meta, image });
  }
  candidates.sort((a, b) => compareVersions(b.stanza.Version ?? '', a.stanza.Version ?? ''));
  const chosen = candidates[0];
  if (!chosen) throw new EnvironmentError(`no linux-image-amd64 in Debian ${suite} on ${main}`, HINT);
  const release = releaseOfPackage(chosen.image.Package!);
  const dir = cacheDir('kernels', release);
  if (!existsSync(dir)) {
    const url = `${chosen.archive}/${chosen.image.Filename}`;
    log(`downloading ${chosen.image.Package} ${chosen.image.Version} (${Math.round(Number(chosen.image.Size) / 1e6)} MB)`);
    await cached(dir, async (temporary) => {
      await mkdir(temporary, { recursive: true });
      const deb = join(temporary, basename(url));
      await download(url, deb, chosen.image.SHA256);
      await extractDeb(deb, temporary, log);
      await rm(deb);
    });
  }
  await writeFile(remembered, `${release}\n`);
  return kernelIn(dir, release);
}

async function kernelFromDeb(deb: string, log: Log): Promise<Kernel> {
  await ensurePackages([{ package: 'dpkg', command: 'dpkg-deb' }], 'unpacking a kernel .deb', log);
  const name = (await $({ quiet: true })`dpkg-deb -f ${deb} Package`).stdout.trim();
  if (!name.startsWith('linux-image-')) throw new EnvironmentError(`${deb} is the package ${name}, not a linux-image`, HINT);
  const release = releaseOfPackage(name);
  const dir = cacheDir('kernels', release);
  await cached(dir, async (temporary) => {
    await mkdir(temporary, { recursive: true });
    await extractDeb(deb, temporary, log);
  });
  return kernelIn(dir, release);
}

async function kernelFromImage(vmlinuz: string, log: Log): Promise<Kernel> {
  const handle = await open(vmlinuz, 'r');
  const head = Buffer.alloc(64 * 1024);
  await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  const release = bzImageRelease(head);
  if (!release) throw new EnvironmentError(`${vmlinuz} is not an x86 bzImage kernel`, HINT);
  const dir = dirname(vmlinuz);
  const modulesDir = [`/lib/modules/${release}`, ...['lib/modules', '../lib/modules', '../usr/lib/modules', '.'].map((d) => join(dir, d, release))]
    .find((d) => existsSync(join(d, 'kernel')));
  if (!modulesDir) log(`no modules for ${release} (looked in /lib/modules and beside ${vmlinuz}): the kernel must have veth and bridge built in`);
  return { release, vmlinuz, modulesDir };
}

function kernelIn(dir: string, release: string): Kernel {
  const vmlinuz = join(dir, 'boot', `vmlinuz-${release}`);
  if (!existsSync(vmlinuz)) throw new EnvironmentError(`the cached kernel ${dir} has no boot/vmlinuz-${release}`, `remove ${dir} and try again`);
  const modulesDir = [join(dir, 'lib/modules', release), join(dir, 'usr/lib/modules', release)].find((d) => existsSync(d));
  return { release, vmlinuz, modulesDir };
}

async function extractDeb(deb: string, into: string, log: Log): Promise<void> {
  await ensurePackages([{ package: 'dpkg', command: 'dpkg-deb' }], 'unpacking a kernel .deb', log);
  await $({ quiet: true })`dpkg-deb -x ${deb} ${into}`;
}

/** The text of a Packages.xz; undefined for a missing optional index (a suite without a security archive). */
async function fetchPackages(url: string, required: boolean, log: Log): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  } catch (error) {
    if (!required) return undefined;
    throw new EnvironmentError(`cannot fetch ${url}: ${(error as Error).message}`, 'check the network to the Debian mirror, or give a kernel .deb or vmlinuz path');
  }
  if (!response.ok) {
    if (!required) return undefined;
    throw new EnvironmentError(`cannot fetch ${url}: HTTP ${response.status}`, 'check the mirror in /etc/apt/sources.list.d/debian.sources');
  }
  return unxz(Buffer.from(await response.arrayBuffer()), log);
}

async function unxz(data: Buffer, log: Log): Promise<string> {
  return (await decompress(data, 'xz', 'a Packages.xz', log)).toString('utf8');
}

const DECOMPRESSORS = { xz: { command: 'xz', package: 'xz-utils' }, zstd: { command: 'zstd', package: 'zstd' } };

export async function decompress(data: Buffer, format: 'xz' | 'zstd', what: string, log: Log): Promise<Buffer> {
  const tool = DECOMPRESSORS[format];
  await ensurePackages([tool], `decompressing ${what}`, log);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool.command, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.on('close', (code) => (code === 0 ? resolvePromise(Buffer.concat(chunks)) : reject(new EnvironmentError(`${tool.command} could not decompress ${what} (exit ${code})`))));
    child.stdin.end(data);
  });
}

/**
 * The image to give qemu's -kernel. Software emulation takes seconds to run a bzImage's own decompressor,
 * so where the kernel supports PVH entry (CONFIG_PVH) this is the uncompressed ELF vmlinux, decompressed
 * here once and cached; qemu then jumps straight into it.
 */
export async function bootImage(kernel: Kernel, log: Log): Promise<string> {
  const config = join(dirname(kernel.vmlinuz), `config-${kernel.release}`);
  if (!existsSync(config) || !/^CONFIG_PVH=y$/m.test(await readFile(config, 'utf8'))) return kernel.vmlinuz;
  const image = await readFile(kernel.vmlinuz);
  const key = createHash('sha256').update(image).digest('hex').slice(0, 16);
  const target = cacheDir('vmlinux', `${kernel.release}-${key}`);
  if (existsSync(target)) return target;
  const payload = bzImagePayload(image);
  if (!payload) return kernel.vmlinuz;
  return cached(target, async (temporary) => writeFile(temporary, await decompress(payload.data, payload.format, `the kernel ${kernel.release}`, log)));
}

async function download(url: string, file: string, sha256: string | undefined): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
  } catch (error) {
    throw new EnvironmentError(`cannot download ${url}: ${(error as Error).message}`, 'check the network to the Debian mirror');
  }
  if (!response.ok || !response.body) throw new EnvironmentError(`cannot download ${url}: HTTP ${response.status}`);
  const hash = createHash('sha256');
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, createWriteStream(file));
  const got = hash.digest('hex');
  if (sha256 && got !== sha256) throw new EnvironmentError(`${url} arrived damaged (sha256 ${got}, expected ${sha256})`, 'try again');
}
