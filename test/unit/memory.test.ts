import { expect } from 'chai';
import { parseCgroupMemory, parseSlabinfo } from '../../lab/collect/memory.ts';
import { readMachineSysctls } from '../../lab/collect/sysctls.ts';
import { slabCachesPerConnection } from '../../lab/results/memory.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { parseSlabSizes, bytesPerObject, SLAB_SIZES_SCRIPT } from '../../lab/collect/slab-caches.ts';
import { endCgroupBytes, slabBytesPerConnection, slabObjectsPerConnection } from '../../lab/scenario/theory/memory.ts';
import type { TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

// Object sizes as /proc/slabinfo printed them on 6.18.44 (no eventpoll merging shown: names only).
const SIZES = {
  TCP: 2368,
  sock_inode_cache: 832,
  filp: 192,
  dentry: 192,
  eventpoll_epi: 128,
  ep_head: 16,
  lsm_file_cache: 24,
  lsm_inode_cache: 32,
  nf_conntrack: 256,
};
const context = (kernel: string, socketsAccounted: boolean): TheoryContext => ({
  kernel: kernelRelease(kernel),
  clients: [],
  server: { ip: '198.18.0.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000, socketsAccounted },
  slabObjectSizes: SIZES,
});

describe('kernel memory per connection', () => {
  it('reads cgroup v1 kmem and counts socket buffers only where the lab turned their accounting on', () => {
    expect(parseCgroupMemory('v1 41943040 20480\n', true)).to.deep.include({ kernelBytes: 41943040, tcpBufferBytes: 20480 });
    expect(parseCgroupMemory('v1 41943040 0\n', false)).to.not.have.property('tcpBufferBytes');
  });

  it('reads cgroup v2 memory.stat kernel and sock, and nothing where there is no cgroup', () => {
    expect(parseCgroupMemory('v2 kernel 5000\nv2 slab 4000\nv2 sock 300\n', false)).to.deep.include({ kernelBytes: 5000, tcpBufferBytes: 300 });
    expect(parseCgroupMemory('', true)).to.equal(undefined);
  });

  it('reads active objects and object sizes from /proc/slabinfo lines', () => {
    expect(parseSlabinfo('TCP 19955 2368\nbogus line\nfilp 100 192\n')).to.deep.equal({
      TCP: { objects: 19955, size: 2368 },
      filp: { objects: 100, size: 192 },
    });
  });

  it("predicts both ends and three conntrack entries per connection, from the kernel's own object sizes", () => {
    const objects = slabObjectsPerConnection(SIZES, true);
    expect(objects.find((o) => o.cache === 'TCP')?.objects).to.equal(2);
    expect(objects.find((o) => o.cache === 'nf_conntrack')?.objects).to.equal(3);
    expect(slabObjectsPerConnection(SIZES, false).some((o) => o.cache === 'nf_conntrack')).to.equal(false);
    // 2 x (2368 + 832 + 192 + 192 + 128 + 16 + 24 + 32) + 3 x 256 = 8336
    expect(slabBytesPerConnection(context('6.18.44', true)).why).to.include('= 8336 B');
  });

  it("charges the server end's socket to its cgroup only on 6.12+ with socket accounting on", () => {
    const end = 832 + 192 + 192 + 128 + 16 + 24 + 32;
    expect(endCgroupBytes(context('6.18.44', true), 'server').why).to.include(`= ${end + 2368} B`);
    expect(endCgroupBytes(context('6.18.44', false), 'server').why).to.include(`= ${end} B`);
    expect(endCgroupBytes(context('6.1.0-28-amd64', true), 'server').why).to.include(`= ${end} B`);
    expect(endCgroupBytes(context('6.1.0-28-amd64', false), 'client').why).to.include(`= ${end + 2368} B`);
  });

  it('lists the caches the theory names and any other that grew by half an object per connection', () => {
    const before = { TCP: { objects: 100, size: 2368 }, proc_inode_cache: { objects: 0, size: 696 }, kmalloc_64: { objects: 50, size: 64 } };
    const after = { TCP: { objects: 20100, size: 2368 }, proc_inode_cache: { objects: 20000, size: 696 }, kmalloc_64: { objects: 60, size: 64 } };
    const rows = slabCachesPerConnection(before, after, 10_000, true);
    expect(rows.map((r) => r.cache)).to.deep.equal(['TCP', 'proc_inode_cache']);
    expect(rows[0]).to.deep.include({ objectsPerConnection: 2, bytesPerConnection: 4736, predictedObjects: 2 });
    expect(rows[1]).to.not.have.property('predictedObjects');
  });

  it('reads machine-wide limits that exist and leaves out those that do not', async () => {
    const seen: string[][] = [];
    const sysctls = await readMachineSysctls(async (argv) => {
      seen.push(argv);
      return { exitCode: 0, stdout: 'net.ipv4.tcp_mem=287898 383866 575796\nfs.file-max=2466174\n' };
    });
    expect(sysctls).to.deep.equal({ 'net.ipv4.tcp_mem': '287898 383866 575796', 'fs.file-max': '2466174' });
    expect(seen[0]!.join(' ')).to.include('/proc/sys/net/ipv4/tcp_mem');
    expect(await readMachineSysctls(async () => ({ exitCode: 0, stdout: '' }))).to.equal(undefined);
  });
});

describe('slab cache sizes read inside a host, and IPv6 sockets in their own cache', () => {
  // As Debian's 6.12 has them (/sys/kernel/slab): TCP keeps its free pointer outside the object, eventpoll_epi is merged.
  const SYSFS_612 = ['TCP 2368 2432', 'TCPv6 2560 2624', 'sock_inode_cache 768 832', 'eventpoll_epi 128 128 :A-0000128', 'nf_conntrack 248 256'].join(
    '\n',
  );

  it('reads object and slab sizes per cache, and what a merged cache links to', () => {
    expect(parseSlabSizes(`${SYSFS_612}\nbroken line\n`)).to.deep.equal({
      TCP: { objectSize: 2368, slabSize: 2432 },
      TCPv6: { objectSize: 2560, slabSize: 2624 },
      sock_inode_cache: { objectSize: 768, slabSize: 832 },
      eventpoll_epi: { objectSize: 128, slabSize: 128, mergedInto: ':A-0000128' },
      nf_conntrack: { objectSize: 248, slabSize: 256 },
    });
    expect(SLAB_SIZES_SCRIPT).to.include('TCPv6').and.include('eventpoll_epi').and.include('/sys/kernel/slab');
  });

  it("counts slab sizes where sysfs has them, slabinfo's sizes for the rest, and a merged cache slabinfo does not list", () => {
    const sizes = bytesPerObject({ TCP: 2432, filp: 192 }, parseSlabSizes(SYSFS_612));
    expect(sizes).to.include({ TCP: 2432, TCPv6: 2624, filp: 192, eventpoll_epi: 128 });
  });

  const over = (family: 'ipv4' | 'ipv6' | 'dual'): TheoryContext => ({
    ...context('6.12.118+deb13-amd64', true),
    clients: [{ ...clientTheoryOf('client-1'), family }],
    slabObjectSizes: { ...SIZES, TCPv6: 2496 },
  });

  it('takes the TCPv6 object for connections over IPv6, half of each for dual', () => {
    expect(slabObjectsPerConnection(over('ipv6').slabObjectSizes!, true, 'ipv6').find((o) => o.cache === 'TCPv6')?.objects).to.equal(2);
    expect(slabObjectsPerConnection(over('ipv6').slabObjectSizes!, true, 'ipv6').some((o) => o.cache === 'TCP')).to.equal(false);
    // 8336 with TCP (above) becomes 8336 + 2 x (2496 - 2368) over IPv6
    expect(slabBytesPerConnection(over('ipv6')).why)
      .to.include('2 x TCPv6 2496 B')
      .and.include('= 8592 B');
    expect(slabBytesPerConnection(over('dual')).why)
      .to.include('1 x TCP 2368 B + 1 x TCPv6 2496 B')
      .and.include('= 8464 B');
    expect(slabBytesPerConnection(over('ipv4')).why).to.include('= 8336 B');
    const end = 832 + 192 + 192 + 128 + 16 + 24 + 32;
    expect(endCgroupBytes({ ...over('ipv6'), client: over('ipv6').clients[0]! }, 'client').why)
      .to.include(`TCPv6 2496 B`)
      .and.include(`= ${end + 2496} B`);
  });
});
