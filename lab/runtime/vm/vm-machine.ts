/**
 * A Linux VM the namespace runtime drives: a Debian kernel and the lab's initramfs under qemu, with no
 * network to the outside (-nic none). Its agent (images/agent/labagent.c) serves a virtio port (or ttyS1),
 * which qemu connects to a unix socket this process listens on; the console (ttyS0) goes to a log file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { RuntimeFailure } from '../../errors.ts';
import { ensurePackages } from '../debian-packages.ts';
import type { Machine, MachineProcess, ProcessSignal } from '../netns/machine.ts';
import { buildLabPrograms } from '../programs.ts';
import type { Log } from '../runtime.ts';
import { encodeFrame, encodeStart, type Frame, FrameDecoder } from './frames.ts';
import { buildInitramfs, VM_AGENT_VIRTIO_PORT, VM_PROGRAM_DIR } from './initramfs.ts';
import { bootImage, resolveKernel } from './kernels.ts';

export interface VmMachine extends Machine {
  readonly kernelRelease: string;
}

export interface VmOptions {
  /** '5.10', '6.1', '6.12', or a path to a kernel .deb or vmlinuz. */
  kernel: string;
  runId: string;
  memoryMiB?: number;
  cpus?: number;
  log: Log;
}

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const QEMU = 'qemu-system-x86_64';
const SIGNALS: Record<ProcessSignal, number> = { HUP: 1, INT: 2, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };
/** Software emulation boots in about 3 s on an idle machine; allow for a busy one. */
const BOOT_TIMEOUT_MS = Number(process.env.LAB_VM_BOOT_TIMEOUT_MS) || 90_000;
/** What a process that was running when the VM stopped reports as its exit code. */
export const VM_STOPPED_EXIT = 255;

/** Where VMs' pid files, sockets and console logs are. */
export function vmStateDir(): string {
  if (process.getuid?.() === 0) return '/run/lab/vms';
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), 'lab', 'vms');
}

const qemuName = (runId: string) => `lab-${runId}`;

export async function bootVm(options: VmOptions): Promise<VmMachine> {
  const { log } = options;
  const kernel = await resolveKernel(options.kernel, log);
  const programDir = await buildLabPrograms(PROJECT_ROOT, { static: true }, log);
  const initramfs = await buildInitramfs(kernel, programDir, log);
  const image = await bootImage(kernel, log);
  await ensurePackages([{ package: 'qemu-system-x86', command: QEMU }], 'running the lab in a VM', log);

  const stateDir = vmStateDir();
  await mkdir(stateDir, { recursive: true });
  const base = freeBase(stateDir, options.runId);
  const files = { pid: `${base}.pid`, socket: `${base}.sock`, console: `${base}.console.log` };
  const accel = process.env.LAB_VM_ACCEL === 'kvm' ? 'kvm' : 'tcg';
  // The agent's line: a virtio port (some MB/s) where the kernel has one, else the serial port (~130 KB/s
  // under software emulation). LAB_VM_CHANNEL=serial forces the serial port.
  const virtio = initramfs.virtioPort && process.env.LAB_VM_CHANNEL !== 'serial';
  const args = [
    '-name',
    qemuName(options.runId),
    '-machine',
    'pc',
    '-accel',
    // Several vCPUs run in parallel only with one host thread each (multi-threaded TCG), asked for explicitly.
    accel === 'tcg' && (options.cpus ?? 1) > 1 ? 'tcg,thread=multi' : accel,
    '-cpu',
    accel === 'kvm' ? 'host' : 'max',
    '-m',
    String(options.memoryMiB ?? 1024),
    '-smp',
    String(options.cpus ?? 1),
    '-kernel',
    image,
    '-initrd',
    initramfs.file,
    '-append',
    `console=ttyS0 panic=-1 quiet${virtio ? ` lab.agent=${VM_AGENT_VIRTIO_PORT}` : ''}`,
    '-nic',
    'none',
    '-nographic',
    '-monitor',
    'none',
    '-serial',
    `file:${files.console}`,
    '-chardev',
    `socket,id=agent,path=${files.socket}`,
    ...(virtio ? ['-device', 'virtio-serial-pci', '-device', 'virtserialport,chardev=agent,name=lab.agent'] : ['-serial', 'chardev:agent']),
    '-no-reboot',
    '-pidfile',
    files.pid,
  ];

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(files.socket, () => resolve());
  });
  const started = Date.now();
  log(
    `booting ${kernel.release} under qemu (${accel}, ${options.cpus ?? 1} cpu, ${options.memoryMiB ?? 1024} MiB, agent on ${virtio ? 'a virtio port' : 'ttyS1'})`,
  );
  // setpriv makes qemu die with the lab, even one killed with SIGKILL (where it is missing, lab clean does it).
  const qemu = existsSync('/usr/bin/setpriv')
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', QEMU, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuStderr = '';
  qemu.stderr!.on('data', (chunk: Buffer) => (qemuStderr = (qemuStderr + chunk.toString()).slice(-4000)));
  const vm = new QemuVm(kernel.release, qemu, server, files);
  try {
    await vm.ready(BOOT_TIMEOUT_MS, () => qemuStderr);
  } catch (error) {
    await vm.close();
    throw error;
  }
  log(`VM ${kernel.release} answers (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return vm;
}

const reservedBases = new Set<string>();

/** `<stateDir>/<runId>-<n>` with the first n no VM of this run uses; synchronous, so parallel boots differ. */
function freeBase(stateDir: string, runId: string): string {
  const taken = readdirSync(stateDir);
  for (let n = 1; ; n++) {
    const base = join(stateDir, `${runId}-${n}`);
    if (reservedBases.has(base) || taken.some((f) => f.startsWith(`${runId}-${n}.`))) continue;
    reservedBases.add(base);
    return base;
  }
}

interface Channel {
  onStdout: (chunk: string) => void;
  onStderr: (chunk: string) => void;
  stdout: StringDecoder;
  stderr: StringDecoder;
  started: { resolve: () => void; reject: (error: Error) => void };
  exit: (code: number) => void;
  ended: boolean;
}

class QemuVm implements VmMachine {
  readonly description: string;
  readonly programDir = VM_PROGRAM_DIR;
  private socket: Socket | undefined;
  private readonly decoder = new FrameDecoder();
  private readonly channels = new Map<number, Channel>();
  private nextChannel = 1;
  private stopped: string | undefined;
  private readonly qemuExited: Promise<void>;
  private onReady: ((release: string) => void) | undefined;

  constructor(
    readonly kernelRelease: string,
    private readonly qemu: ChildProcess,
    private readonly server: Server,
    private readonly files: { pid: string; socket: string; console: string },
  ) {
    this.description = `VM ${kernelRelease}`;
    this.qemuExited = new Promise((resolve) => {
      if (qemu.exitCode !== null || qemu.signalCode !== null) return resolve();
      qemu.once('exit', (code, signal) => {
        this.stop(`qemu exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      qemu.once('error', (error) => {
        this.stop(`qemu could not run: ${error.message}`);
        resolve();
      });
    });
    server.on('connection', (socket) => {
      if (this.socket) return void socket.destroy();
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      socket.on('close', () => this.stop('the connection to its agent closed'));
      socket.on('error', () => {});
    });
  }

  /** Resolves once the agent has said it is ready; rejects with the console's tail if it never does. */
  async ready(timeoutMs: number, qemuStderr: () => string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<string>((resolve) => (this.onReady = resolve));
    const failed = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`did not answer within ${timeoutMs / 1000} s`), timeoutMs);
      void this.qemuExited.then(() => resolve(this.stopped ?? 'qemu exited'));
    });
    const outcome = await Promise.race([answered.then((release) => ({ release })), failed.then((reason) => ({ reason }))]);
    clearTimeout(timer);
    if ('release' in outcome) return;
    const tail = this.consoleTail(20);
    const lastLine = tail.trim().split('\n').pop() ?? '';
    throw new RuntimeFailure(
      `VM ${this.kernelRelease} ${outcome.reason}${lastLine ? `; its console ends with: ${lastLine}` : ''}`,
      `the last lines of its console follow${process.env.LAB_VM_ACCEL === 'kvm' ? '; KVM hangs on some machines: unset LAB_VM_ACCEL to use software emulation' : ''}`,
      [qemuStderr().trim() && `qemu: ${qemuStderr().trim()}`, tail.trim()].filter(Boolean).join('\n'),
    );
  }

  private consoleTail(lines: number): string {
    if (!existsSync(this.files.console)) return '';
    const text = readFileSync(this.files.console, 'utf8')
      .replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, '')
      .replace(/\r/g, '');
    return text.split('\n').slice(-lines).join('\n');
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.stop(`its agent's stream broke: ${(error as Error).message}`);
      this.qemu.kill('SIGKILL');
      return;
    }
    for (const frame of frames) this.handle(frame);
  }

  private handle({ channel: id, type, payload }: Frame): void {
    if (type === 'R') {
      this.onReady?.(payload.toString());
      return;
    }
    const channel = this.channels.get(id);
    if (!channel) return;
    if (type === 'P') channel.started.resolve();
    else if (type === 'O') channel.onStdout(channel.stdout.write(payload));
    else if (type === 'E') channel.onStderr(channel.stderr.write(payload));
    else if (type === 'F') {
      this.channels.delete(id);
      channel.ended = true;
      channel.started.reject(new RuntimeFailure(`${this.description} could not start a program: ${payload.toString()}`));
    } else if (type === 'X') this.end(id, channel, Number(payload.toString()));
  }

  private end(id: number, channel: Channel, code: number): void {
    this.channels.delete(id);
    channel.ended = true;
    const out = channel.stdout.end();
    const err = channel.stderr.end();
    if (out) channel.onStdout(out);
    if (err) channel.onStderr(err);
    channel.exit(code);
  }

  /** The VM is gone: programs still running end with VM_STOPPED_EXIT, new ones cannot start. */
  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    for (const [id, channel] of this.channels) {
      channel.started.reject(new RuntimeFailure(`${this.description} stopped: ${reason}`));
      channel.onStderr(`${this.description} stopped: ${reason}\n`);
      this.end(id, channel, VM_STOPPED_EXIT);
    }
  }

  async spawn(argv: string[], onStdout: (chunk: string) => void, onStderr: (chunk: string) => void): Promise<MachineProcess> {
    if (this.stopped || !this.socket) throw new RuntimeFailure(`${this.description} cannot start ${argv[0]}: ${this.stopped ?? 'not booted'}`);
    if (argv.length === 0 || argv.some((a) => a.includes('\0')))
      throw new RuntimeFailure(`cannot start ${JSON.stringify(argv)}: empty, or an argument holds a NUL`);
    const id = this.nextChannel++;
    let exit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const started = new Promise<void>((resolve, reject) => {
      const channel: Channel = {
        onStdout,
        onStderr,
        stdout: new StringDecoder('utf8'),
        stderr: new StringDecoder('utf8'),
        started: { resolve, reject },
        exit,
        ended: false,
      };
      this.channels.set(id, channel);
    });
    this.socket.write(encodeStart(id, argv));
    await started;
    const channel = this.channels.get(id);
    return {
      exited,
      kill: async (signal: ProcessSignal) => {
        if (!channel || channel.ended || this.stopped) return;
        this.socket?.write(encodeFrame(id, 'K', Buffer.from(String(SIGNALS[signal]))));
      },
    };
  }

  async close(): Promise<void> {
    this.stop('closed');
    if (this.qemu.exitCode === null && this.qemu.signalCode === null) {
      this.qemu.kill('SIGTERM');
      const killer = setTimeout(() => this.qemu.kill('SIGKILL'), 5000);
      await this.qemuExited;
      clearTimeout(killer);
    }
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(Object.values(this.files).map((f) => rm(f, { force: true })));
  }
}

/** The qemu processes the lab started (for one run, or every run): pid and -name. */
async function labQemus(runId: string | undefined): Promise<{ pid: number; name: string }[]> {
  const found: { pid: number; name: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.split('/').pop()?.startsWith('qemu-system')) continue;
    const name = argv[argv.indexOf('-name') + 1];
    if (argv.indexOf('-name') < 0 || !name) continue;
    if (runId ? name === qemuName(runId) : name.startsWith('lab-')) found.push({ pid: Number(entry), name });
  }
  return found;
}

/** Kills the VMs the lab left running (of one run, or of all) and removes their files; says what it removed. */
export async function removeVms(runId: string | undefined, keep: (runId: string) => boolean = () => false): Promise<string[]> {
  const removed: string[] = [];
  const killed = new Set<number>();
  const kept = (name: string) => keep(name.replace(/^lab-/, ''));
  for (const { pid, name } of (await labQemus(runId)).filter((q) => !kept(q.name))) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.add(pid);
      removed.push(`VM ${name} (qemu pid ${pid})`);
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + 5000;
  while ((await labQemus(runId)).some((q) => !kept(q.name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const dir = vmStateDir();
  if (!existsSync(dir)) return removed;
  for (const file of await readdir(dir)) {
    if (runId && !file.startsWith(`${runId}-`)) continue;
    if (kept(`lab-${file.slice(0, file.indexOf('-'))}`)) continue;
    const path = join(dir, file);
    if (file.endsWith('.pid')) {
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!killed.has(pid)) removed.push(`files of the stopped VM ${file.replace(/\.pid$/, '')}`);
    }
    await rm(path, { force: true });
  }
  return removed;
}
