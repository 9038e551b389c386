/**
 * Finds the kernel a VM boots: a Debian kernel named as DEBIAN_KERNELS says ('6.1': bookworm's current one;
 * '7.2': the newest 7.2.x of forky or sid...), fetched from the machine's apt mirror, a kernel .deb, or a
 * vmlinuz image. Downloads and extractions are cached under ~/.cache/lab/kernels; a second call does no network.
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
  /** The kernel's .config (boot/config-<release>, or usr/lib/modules/<release>/config), if there is one. */
  config?: string;
  /** lib/modules/<release>, or undefined for a bare image whose modules are nowhere (all built in, then). */
  modulesDir: string | undefined;
}

export interface DebianKernel {
  /** Where to look; the newest image among them wins. */
  suites: string[];
  /** Only images of this upstream version (6.16: 6.16.12, not 6.17); without, what linux-image-amd64 points at. */
  version?: string;
  about: string;
}

/** The kernels known by name, oldest first. */
export const DEBIAN_KERNELS: Record<string, DebianKernel> = {
  '5.10': { suites: ['bullseye'], about: 'Debian 11 bullseye' },
  '6.1': { suites: ['bookworm'], about: 'Debian 12 bookworm' },
  '6.12': { suites: ['trixie'], about: 'Debian 13 trixie' },
  '6.16': { suites: ['trixie-backports'], version: '6.16', about: 'the last 6.16 in trixie-backports' },
  '7.2': { suites: ['forky', 'sid'], version: '7.2', about: 'Debian forky (testing) and sid' },
  '7.3-rc': { suites: ['experimental'], version: '7.3', about: 'the 7.3 release candidate in experimental' },
  latest: {
    suites: ['experimental', 'sid', 'forky', 'trixie-backports'],
    about: 'the newest kernel the mirror has (experimental, sid, forky, trixie-backports)',
  },
};

export function debianKernelNames(): string[] {
  return Object.keys(DEBIAN_KERNELS);
}

/** Names that stand for another kernel's newest: `--kernels all` leaves them out (they would run one twice). */
export const KERNEL_ALIASES: readonly string[] = ['latest'];

const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const HINT = `give one of ${debianKernelNames().join(', ')}, a path to a linux-image .deb, or a path to a vmlinuz`;

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

/** The package names a stanza's Depends lists, alternatives included, without version constraints. */
function dependencyNames(stanza: Stanza): string[] {
  return (stanza.Depends ?? '').split(/[,|]/).map((d) => d.trim().split(/\s/)[0] ?? '');
}

const IMAGE_PACKAGE = /^linux-image-\d\S*-amd64$/;
const OTHER_FLAVOUR = /-(cloud|rt|unsigned|dbg)(-|$)/;

function isPlainImage(name: string): boolean {
  return IMAGE_PACKAGE.test(name) && !OTHER_FLAVOUR.test(name);
}

/** The real image package a linux-image-amd64 metapackage depends on (not -unsigned, not -dbg). */
export function imagePackageOf(metapackage: Stanza): string | undefined {
  return dependencyNames(metapackage).find(isPlainImage);
}

/** Whether a Debian version is of upstream version `pin`: 7.3~rc7-1~exp1 and 7.3-1 are 7.3; 7.30.1 is not. */
export function versionMatches(version: string, pin: string): boolean {
  return ['.', '~', '-'].some((next) => version.startsWith(`${pin}${next}`));
}

/**
 * The image package to boot in one Packages index: the highest version of `pin` among the plain amd64
 * images, or without a pin the one linux-image-amd64 points at (a stable suite's security archive also
 * carries newer series, 6.12 in bookworm-security, that the highest version alone would pick).
 */
export function chooseImage(packages: string, pin?: string): Stanza | undefined {
  if (pin === undefined) {
    const meta = findPackage(packages, 'linux-image-amd64');
    const name = meta && imagePackageOf(meta);
    return name ? findPackage(packages, name) : undefined;
  }
  let best: Stanza | undefined;
  for (const paragraph of packages.split(/\n\s*\n/)) {
    if (!paragraph.startsWith('Package: linux-image-')) continue;
    const stanza = parseStanza(paragraph);
    if (!isPlainImage(stanza.Package ?? '') || !versionMatches(stanza.Version ?? '', pin)) continue;
    if (!best || compareVersions(stanza.Version ?? '', best.Version ?? '') > 0) best = stanza;
  }
  // A series metapackage (linux-image-6.12-amd64) has the version of the image it depends on: take that.
  const real = best && imagePackageOf(best);
  return (real && findPackage(packages, real)) || best;
}

/**
 * The packages an image is made of since Debian 6.19, when linux-image-<abi> became a metapackage:
 * linux-base-<abi> (config, modules.builtin), linux-binary-<abi> (vmlinuz), linux-modules-<abi>. None
 * for an image that carries its kernel itself.
 */
export function imagePartsOf(image: Stanza): string[] {
  const parts = dependencyNames(image).filter((d) => /^linux-(base|binary|modules)-\d\S*-amd64$/.test(d));
  return parts.some((d) => d.startsWith('linux-binary-')) ? parts : [];
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
  if (Object.hasOwn(DEBIAN_KERNELS, spec)) return debianKernel(spec, log);
  const path = resolve(spec);
  if (!existsSync(path)) throw new EnvironmentError(`kernel ${spec}: not a known release nor an existing file`, HINT);
  if (path.endsWith('.deb')) return kernelFromDeb(path, log);
  return kernelFromImage(path, log);
}

/** An image found in one suite, with the packages (itself, or its parts) that hold the kernel. */
interface Candidate {
  archive: string;
  image: Stanza;
  debs: Stanza[];
}

async function debianKernel(name: string, log: Log): Promise<Kernel> {
  const remembered = cacheDir('kernels', `debian-${name}`);
  if (existsSync(remembered)) {
    const release = (await readFile(remembered, 'utf8')).trim();
    const dir = cacheDir('kernels', release);
    if (existsSync(dir)) return kernelIn(dir, release);
  }
  const { suites, version } = DEBIAN_KERNELS[name]!;
  const sources = await aptSources();
  const main = sources.main ?? DEFAULT_MIRROR;
  const security = sources.security ?? main.replace(/\/debian$/, '/debian-security');
  log(`finding the kernel of Debian ${suites.join(', ')} (${name}) on ${main}`);
  const candidates: Candidate[] = [];
  for (const suite of suites) {
    for (const [archive, dist] of [
      [main, suite],
      [security, `${suite}-security`],
    ] as const) {
      const url = `${archive}/dists/${dist}/main/binary-amd64/Packages.xz`;
      const packages = await fetchPackages(url, archive === main, log);
      const image = packages === undefined ? undefined : chooseImage(packages, version);
      if (image) candidates.push({ archive, image, debs: debsOf(image, packages!, dist) });
    }
  }
  candidates.sort((a, b) => compareVersions(b.image.Version ?? '', a.image.Version ?? ''));
  const chosen = candidates[0];
  const wanted = version ? `linux-image of ${version}` : 'linux-image-amd64';
  if (!chosen) throw new EnvironmentError(`no ${wanted} in Debian ${suites.join(', ')} on ${main}`, HINT);
  const release = releaseOfPackage(chosen.image.Package!);
  const dir = cacheDir('kernels', release);
  if (!existsSync(dir)) await fetchKernel(chosen, dir, release, log);
  await writeFile(remembered, `${release}\n`);
  return kernelIn(dir, release);
}

/** The stanzas of the .debs to unpack for `image`: the image itself, or its parts from the same index. */
function debsOf(image: Stanza, packages: string, dist: string): Stanza[] {
  const parts = imagePartsOf(image);
  if (parts.length === 0) return [image];
  return parts.map((part) => {
    const stanza = findPackage(packages, part);
    if (!stanza)
      throw new EnvironmentError(
        `Debian ${dist} lists ${image.Package}, but not the ${part} it is made of`,
        'try again later, or give another kernel',
      );
    return stanza;
  });
}

async function fetchKernel(chosen: Candidate, dir: string, release: string, log: Log): Promise<void> {
  const { image, debs } = chosen;
  const size = Math.round(debs.reduce((sum, deb) => sum + Number(deb.Size ?? 0), 0) / 1e6);
  const parts = debs[0] === image ? '' : ` as ${debs.map((d) => d.Package).join(', ')}`;
  log(`downloading ${image.Package} ${image.Version}${parts} (${size} MB)`);
  await cached(dir, async (temporary) => {
    await mkdir(temporary, { recursive: true });
    for (const stanza of debs) {
      const url = `${chosen.archive}/${stanza.Filename}`;
      const deb = join(temporary, basename(url));
      await download(url, deb, stanza.SHA256);
      await extractDeb(deb, temporary, log);
      await rm(deb);
    }
    if (!findVmlinuz(temporary, release)) throw new EnvironmentError(`${debs.map((d) => d.Package).join(', ')} hold no vmlinuz for ${release}`, HINT);
  });
}

async function kernelFromDeb(deb: string, log: Log): Promise<Kernel> {
  await ensurePackages([{ package: 'dpkg', command: 'dpkg-deb' }], 'unpacking a kernel .deb', log);
  const control = parseStanza((await $({ quiet: true })`dpkg-deb -f ${deb}`).stdout);
  const name = control.Package ?? '';
  if (!name.startsWith('linux-image-')) throw new EnvironmentError(`${deb} is the package ${name}, not a linux-image`, HINT);
  if (imagePartsOf(control).length > 0) throw metapackageError(deb, name, control.Version ?? '');
  const release = releaseOfPackage(name);
  const dir = cacheDir('kernels', release);
  await cached(dir, async (temporary) => {
    await mkdir(temporary, { recursive: true });
    await extractDeb(deb, temporary, log);
    if (!findVmlinuz(temporary, release)) throw new EnvironmentError(`${deb} (${name}) holds no vmlinuz for ${release}`, HINT);
  });
  return kernelIn(dir, release);
}

function metapackageError(deb: string, name: string, version: string): EnvironmentError {
  const known = debianKernelNames().find((n) => DEBIAN_KERNELS[n]!.version && versionMatches(version, DEBIAN_KERNELS[n]!.version!)) ?? 'latest';
  return new EnvironmentError(
    `${deb} is ${name}, a metapackage: since Debian 6.19 the kernel and its modules are in the linux-binary-* and linux-modules-* packages it depends on`,
    `give the kernel's name instead (e.g. --kernel ${known}; one of ${debianKernelNames().join(', ')}), which fetches them all`,
  );
}

async function kernelFromImage(vmlinuz: string, log: Log): Promise<Kernel> {
  const handle = await open(vmlinuz, 'r');
  const head = Buffer.alloc(64 * 1024);
  await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  const release = bzImageRelease(head);
  if (!release) throw new EnvironmentError(`${vmlinuz} is not an x86 bzImage kernel`, HINT);
  const dir = dirname(vmlinuz);
  // '..' finds the folder of a usr/lib/modules/<release>/vmlinuz itself.
  const modulesDir = [
    `/lib/modules/${release}`,
    ...['lib/modules', '../lib/modules', '../usr/lib/modules', '.', '..'].map((d) => join(dir, d, release)),
  ].find((d) => existsSync(join(d, 'kernel')));
  if (!modulesDir) log(`no modules for ${release} (looked in /lib/modules and beside ${vmlinuz}): the kernel must have veth and bridge built in`);
  const config = firstExisting([join(dir, `config-${release}`), ...(modulesDir ? [join(modulesDir, 'config')] : [])]);
  return { release, vmlinuz, config, modulesDir };
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/** Where an unpacked kernel keeps its modules: lib/modules before Debian's merged /usr, usr/lib/modules after. */
function modulesDirsIn(dir: string, release: string): string[] {
  return [join(dir, 'lib/modules', release), join(dir, 'usr/lib/modules', release)];
}

/** boot/vmlinuz-<release> in a linux-image; usr/lib/modules/<release>/vmlinuz in a linux-binary (6.19 on). */
function findVmlinuz(dir: string, release: string): string | undefined {
  const inModules = modulesDirsIn(dir, release).flatMap((m) => [join(m, 'vmlinuz'), join(m, 'vmlinuz.unsigned')]);
  return firstExisting([join(dir, 'boot', `vmlinuz-${release}`), ...inModules]);
}

function kernelIn(dir: string, release: string): Kernel {
  const vmlinuz = findVmlinuz(dir, release);
  if (!vmlinuz)
    throw new EnvironmentError(
      `the cached kernel ${dir} has no boot/vmlinuz-${release} nor usr/lib/modules/${release}/vmlinuz`,
      `remove ${dir} and try again`,
    );
  const modules = modulesDirsIn(dir, release);
  const config = firstExisting([join(dir, 'boot', `config-${release}`), ...modules.map((m) => join(m, 'config'))]);
  const modulesDir = modules.find((d) => existsSync(join(d, 'kernel')));
  return { release, vmlinuz, config, modulesDir };
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
    throw new EnvironmentError(
      `cannot fetch ${url}: ${(error as Error).message}`,
      'check the network to the Debian mirror, or give a kernel .deb or vmlinuz path',
    );
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
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(Buffer.concat(chunks))
        : reject(new EnvironmentError(`${tool.command} could not decompress ${what} (exit ${code})`)),
    );
    child.stdin.end(data);
  });
}

/**
 * The image to give qemu's -kernel. Software emulation takes seconds to run a bzImage's own decompressor,
 * so where the kernel supports PVH entry (CONFIG_PVH) this is the uncompressed ELF vmlinux, decompressed
 * here once and cached; qemu then jumps straight into it.
 */
export async function bootImage(kernel: Kernel, log: Log): Promise<string> {
  if (!kernel.config || !/^CONFIG_PVH=y$/m.test(await readFile(kernel.config, 'utf8'))) return kernel.vmlinuz;
  const image = await readFile(kernel.vmlinuz);
  const key = createHash('sha256').update(image).digest('hex').slice(0, 16);
  const target = cacheDir('vmlinux', `${kernel.release}-${key}`);
  if (existsSync(target)) return target;
  const payload = bzImagePayload(image);
  if (!payload) return kernel.vmlinuz;
  return cached(target, async (temporary) =>
    writeFile(temporary, await decompress(payload.data, payload.format, `the kernel ${kernel.release}`, log)),
  );
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
