/**
 * The VM's whole userland, as an initramfs: busybox, dash as /bin/sh, iproute2 (ip, ss, nstat) and procps (pkill, pgrep)
 * from this machine with their shared libraries, the kernel modules for veth and bridges, the lab's static
 * programs and the agent, and an /init that starts the agent (on a virtio port, or on ttyS1). Cached by a
 * hash of its content.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { $ } from 'zx';
import { EnvironmentError } from '../../errors.ts';
import { cacheDir, cached } from '../cache.ts';
import { ensurePackages, findCommand } from '../debian-packages.ts';
import type { Log } from '../runtime.ts';
import { type CpioEntry, writeCpio } from './cpio.ts';
import { decompress, type Kernel } from './kernels.ts';

/** Where the agent and the lab's programs are inside the VM. */
export const VM_PROGRAM_DIR = '/usr/local/bin';
/** The serial port the agent serves (ttyS0 is the console) unless the kernel command line names another. */
export const VM_AGENT_TTY = '/dev/ttyS1';
/** The agent's virtio port, where the kernel has virtio_console. */
export const VM_AGENT_VIRTIO_PORT = '/dev/vport0p1';

const FORMAT = 1; // bump when the layout below changes
const REQUIRED_MODULES = ['veth', 'bridge'];
const OPTIONAL_MODULES = ['tcp_diag', 'udp_diag', 'unix_diag', 'virtio_pci', 'virtio_console'];
/** Dynamically linked tools copied from this machine: archive path, command, Debian package. */
const HOST_TOOLS = [
  // Debian's /bin/sh, as in the lab's containers; busybox's sh would run its own applets (ip) before PATH's.
  { at: '/bin/sh', command: 'dash', package: 'dash' },
  { at: '/usr/sbin/ip', command: 'ip', package: 'iproute2' },
  { at: '/usr/bin/ss', command: 'ss', package: 'iproute2' },
  { at: '/usr/bin/nstat', command: 'nstat', package: 'iproute2' },
  { at: '/usr/bin/pkill', command: 'pkill', package: 'procps' },
  { at: '/usr/bin/pgrep', command: 'pgrep', package: 'procps' },
];
const BUSYBOX = '/bin/busybox';
const BUSYBOX_NEEDED = [
  'sh',
  'mount',
  'insmod',
  'sleep',
  'cat',
  'awk',
  'sed',
  'grep',
  'tr',
  'printf',
  'readlink',
  'kill',
  'timeout',
  'mkdir',
  'ps',
  'poweroff',
];

const INIT = `#!/bin/sh
export PATH=${VM_PROGRAM_DIR}:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
for m in $(cat /etc/lab-modules); do
  insmod /lib/modules/lab/$m.ko || echo "init: insmod $m failed"
done
ip link set lo up
mkdir -p /run/netns
agent=${VM_AGENT_TTY}
for arg in $(cat /proc/cmdline); do
  case $arg in lab.agent=*) agent=\${arg#lab.agent=} ;; esac
done
i=0
while [ ! -e \$agent ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
echo "init: starting labagent on \$agent"
labagent \$agent
echo "init: labagent exited ($?): powering off"
poweroff -f
`;

const STATIC_FILES: Record<string, string> = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
  'etc/hosts': '127.0.0.1 localhost\n::1 localhost\n',
  'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
};

export interface Initramfs {
  file: string;
  /** Whether the kernel can give the agent a virtio port (tens of times faster than the serial port). */
  virtioPort: boolean;
}

export async function buildInitramfs(kernel: Kernel, programDir: string, log: Log): Promise<Initramfs> {
  await ensurePackages(
    [
      { package: 'busybox-static', present: () => existsSync(BUSYBOX) && isStatic(BUSYBOX) },
      ...HOST_TOOLS.map((t) => ({ package: t.package, command: t.command })),
      { package: 'libc-bin', command: 'ldd' },
    ],
    "building the VM's initramfs",
    log,
  );
  const entries: CpioEntry[] = [
    { path: 'init', type: 'file', data: Buffer.from(INIT), mode: 0o755 },
    { path: 'dev/console', type: 'chardev', major: 5, minor: 1, mode: 0o600 },
    { path: 'dev/null', type: 'chardev', major: 1, minor: 3, mode: 0o666 },
    ...['proc', 'sys', 'run', 'tmp', 'root', 'var'].map((d): CpioEntry => ({ path: d, type: 'dir' })),
    { path: 'var/run', type: 'symlink', target: '/run' },
    { path: 'var/tmp', type: 'symlink', target: '/tmp' },
    ...Object.entries(STATIC_FILES).map(([path, text]): CpioEntry => ({ path, type: 'file', data: Buffer.from(text) })),
  ];
  entries.push(...(await busyboxEntries()));
  entries.push(...(await hostToolEntries()));
  entries.push(...(await programEntries(programDir)));
  const modules = await moduleEntries(kernel, log);
  entries.push(...modules.entries, { path: 'etc/lab-modules', type: 'file', data: Buffer.from(modules.order.join('\n') + '\n') });

  const hash = createHash('sha256').update(`format ${FORMAT}\n`);
  for (const e of entries) hash.update(JSON.stringify({ ...e, data: undefined })).update(e.type === 'file' ? e.data : '');
  const target = cacheDir('initramfs', `${kernel.release}-${hash.digest('hex').slice(0, 16)}.cpio.gz`);
  const virtioPort = modules.available.has('virtio_console');
  if (existsSync(target)) return { file: target, virtioPort };
  log(`building the VM's initramfs for ${kernel.release} (${modules.order.length ? `modules: ${modules.order.join(', ')}` : 'no modules'})`);
  await cached(target, async (temporary) => {
    await writeFile(temporary, gzipSync(writeCpio(entries), { level: 6 }));
  });
  return { file: target, virtioPort };
}

/** Whether an ELF executable has no program interpreter (PT_INTERP), i.e. is statically linked. */
function isStatic(file: string): boolean {
  const elf = readHead(file, 4096);
  if (elf.toString('latin1', 0, 4) !== '\x7fELF' || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > elf.length) return false;
    if (elf.readUInt32LE(at) === 3) return false;
  }
  return true;
}

function readHead(file: string, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    return buffer.subarray(0, readSync(fd, buffer, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

async function busyboxEntries(): Promise<CpioEntry[]> {
  const applets = (await $({ quiet: true })`${BUSYBOX} --list`).stdout.split('\n').filter(Boolean);
  const missing = BUSYBOX_NEEDED.filter((a) => !applets.includes(a));
  if (missing.length) throw new EnvironmentError(`${BUSYBOX} lacks the applets ${missing.join(', ')}`, "install Debian's busybox-static");
  const replaced = new Set([...HOST_TOOLS.map((t) => basename(t.at)), 'init', 'linuxrc', 'busybox']);
  return [
    { path: 'bin/busybox', type: 'file', data: await readFile(BUSYBOX), mode: 0o755 },
    ...applets
      .filter((a) => !replaced.has(a) && /^[\w.[-]+$/.test(a))
      .map((a): CpioEntry => ({ path: `bin/${a}`, type: 'symlink', target: 'busybox' })),
  ];
}

async function hostToolEntries(): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const libraries = new Set<string>();
  for (const tool of HOST_TOOLS) {
    const path = findCommand(tool.command)!;
    entries.push({ path: tool.at, type: 'file', data: await readFile(path), mode: 0o755 });
    for (const lib of parseLdd((await $({ quiet: true })`ldd ${path}`).stdout)) libraries.add(lib);
  }
  for (const lib of [...libraries].sort()) entries.push({ path: lib, type: 'file', data: await readFile(await realpath(lib)), mode: 0o755 });
  return entries;
}

/** The files ldd says a program loads, the ELF interpreter included (not the vDSO). */
export function parseLdd(output: string): string[] {
  const files: string[] = [];
  for (const line of output.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) files.push(m[1]);
  }
  return files;
}

async function programEntries(programDir: string): Promise<CpioEntry[]> {
  const names = (await readdir(programDir)).sort();
  if (!names.includes('labagent')) throw new EnvironmentError(`${programDir} has no labagent`);
  return Promise.all(
    names.map(async (name): Promise<CpioEntry> => ({
      path: `${VM_PROGRAM_DIR.slice(1)}/${name}`,
      type: 'file',
      data: await readFile(join(programDir, name)),
      mode: 0o755,
    })),
  );
}

/** Normalised module name: file names and modinfo's depends= mix '-' and '_'. */
const moduleName = (file: string) =>
  basename(file)
    .replace(/\.ko(\.\w+)?$/, '')
    .replace(/-/g, '_');

/** The modules to load, dependencies first, decompressed for busybox's insmod; built-in ones skipped. */
async function moduleEntries(kernel: Kernel, log: Log): Promise<{ entries: CpioEntry[]; order: string[]; available: Set<string> }> {
  if (!kernel.modulesDir) return { entries: [], order: [], available: new Set() };
  const dir = kernel.modulesDir;
  const builtin = new Set(
    existsSync(join(dir, 'modules.builtin'))
      ? (await readFile(join(dir, 'modules.builtin'), 'utf8')).split('\n').filter(Boolean).map(moduleName)
      : [],
  );
  const files = new Map<string, string>();
  for (const file of await listFiles(join(dir, 'kernel'))) if (/\.ko(\.\w+)?$/.test(file)) files.set(moduleName(file), file);

  const order: string[] = [];
  const contents = new Map<string, Buffer>();
  const visit = async (name: string, required: boolean, chain: string[]): Promise<void> => {
    if (builtin.has(name) || order.includes(name) || chain.includes(name)) return;
    const file = files.get(name);
    if (!file) {
      if (required)
        throw new EnvironmentError(
          `kernel ${kernel.release} has neither a module nor a built-in ${name}`,
          'the lab needs veth and bridge (CONFIG_VETH, CONFIG_BRIDGE)',
        );
      log(`kernel ${kernel.release} has no ${name} module: going without it`);
      return;
    }
    const data = await decompressModule(file, log);
    for (const dep of modinfoDepends(data)) await visit(dep, required, [...chain, name]);
    contents.set(name, data);
    order.push(name);
  };
  for (const name of REQUIRED_MODULES) await visit(name, true, []);
  for (const name of OPTIONAL_MODULES) await visit(name, false, []);
  const available = new Set([...order, ...[...REQUIRED_MODULES, ...OPTIONAL_MODULES].filter((m) => builtin.has(m))]);
  return {
    entries: order.map((name): CpioEntry => ({ path: `lib/modules/lab/${name}.ko`, type: 'file', data: contents.get(name)! })),
    order,
    available,
  };
}

/** The "depends=" of a module's .modinfo section (names of the modules it needs). */
export function modinfoDepends(module: Buffer): string[] {
  const at = module.indexOf('\0depends=');
  if (at < 0) return [];
  const end = module.indexOf(0, at + 1);
  const list = module.toString('latin1', at + '\0depends='.length, end);
  return list
    .split(',')
    .filter(Boolean)
    .map((n) => n.replace(/-/g, '_'));
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path)));
    else found.push(path);
  }
  return found;
}

async function decompressModule(file: string, log: Log): Promise<Buffer> {
  const data = await readFile(file);
  if (file.endsWith('.xz')) return decompress(data, 'xz', file, log);
  if (file.endsWith('.zst')) return decompress(data, 'zstd', file, log);
  if (file.endsWith('.gz')) return gunzipSync(data);
  return data;
}
