/**
 * An ssh server on this machine's loopback that hands a swarm node's engine to whoever logs in with the
 * test's key (`docker system dial-stdio`, with DOCKER_HOST set for the session), so that the node can be
 * reached as lab.engine=ssh://root@127.0.0.1:<port>, as a node on another machine would be. Nothing is
 * installed: Debian's sshd is unpacked into a temporary folder and runs in a mount namespace of its own,
 * where /etc/passwd has the privilege-separation user it needs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshNode {
  address: string;
  /** HOME (its .ssh/known_hosts) and SSH_AUTH_SOCK (an agent holding the key) for the lab. */
  env: Record<string, string>;
  stop(): void;
}

const PORT = 22_022;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export async function startSshNode(engineSocket: string): Promise<SshNode> {
  const dir = mkdtempSync(join(tmpdir(), 'lab-sshd-'));
  // sshd insists on its privilege-separation folder; made here only if missing, and removed with the server.
  const madeRunSshd = !existsSync('/run/sshd');
  const root = join(dir, 'root');
  // The packages as Debian ships them, unpacked, never installed: no service, no user added to the machine.
  run('apt-get', ['download', 'openssh-server', 'libwrap0'], { cwd: dir });
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) run('dpkg-deb', ['-x', join(dir, deb), root]);
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')));
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${PORT} ${hostKey}\n`);
  writeFileSync(join(dir, 'passwd'), `${readFileSync('/etc/passwd', 'utf8').trimEnd()}\nsshd:x:65534:65534:sshd:/run/sshd:/usr/sbin/nologin\n`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `ListenAddress 127.0.0.1:${PORT}`,
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      `SetEnv DOCKER_HOST=unix://${engineSocket}`,
      '',
    ].join('\n'),
  );
  const libraries = [join(root, 'lib/x86_64-linux-gnu'), join(root, 'usr/lib/x86_64-linux-gnu')].join(':');
  const script = `mount --bind ${join(dir, 'passwd')} /etc/passwd && mkdir -p /run/sshd && exec ${join(root, 'usr/sbin/sshd')} -D -e -f ${join(dir, 'sshd_config')}`;
  const sshd: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    env: { ...process.env, LD_LIBRARY_PATH: libraries },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  sshd.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const agentSocket = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(agentSocket) && (await listening(PORT))); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await listening(PORT))) throw new Error(`sshd did not listen on 127.0.0.1:${PORT}: ${log}`);
  run('ssh-add', ['-q', join(dir, 'user_key')], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
  return {
    address: `ssh://root@127.0.0.1:${PORT}`,
    env: { HOME: home, SSH_AUTH_SOCK: agentSocket },
    stop() {
      sshd.kill('SIGTERM');
      agent.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      if (madeRunSshd) rmSync('/run/sshd', { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
