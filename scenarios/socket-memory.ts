import { atLeast, between, clientCeiling, defineScenario, endCgroupBytes, exactly, serverHolds, slabBytesPerConnection } from 'tcp-limits-lab';
import type { Expectation } from 'tcp-limits-lab';

const CONNECTIONS = { full: 50_000, quick: 10_000 };
const CLIENTS = 2;
const PAYLOAD = 16_384;
const URBAN_AIRSHIP = '4096 4096 16777216';
const buffers = (value: string) => ({ 'net.ipv4.tcp_rmem': value, 'net.ipv4.tcp_wmem': value });

/** Per end, from each container's own memory cgroup; both ends and conntrack, from the machine's slab. */
const idle: Expectation[] = [
  { claim: 'every connection is held', subject: 'server', metric: 'estab', predict: serverHolds },
  {
    claim: 'client end: socket, inode, file, dentry, epoll entry, charged to its own container',
    subject: 'each client',
    metric: 'memory.cgroupBytesPerConnection',
    predict: (ctx) => endCgroupBytes(ctx, 'client'),
  },
  {
    claim: 'server end: the same, where accept() charges the socket the kernel made before it (6.12+)',
    subject: 'server',
    metric: 'memory.cgroupBytesPerConnection',
    predict: (ctx) => endCgroupBytes(ctx, 'server'),
  },
  {
    claim: 'both ends and the conntrack entry, in slab caches machine-wide',
    subject: 'server',
    metric: 'memory.slabBytesPerConnection',
    predict: (ctx) => slabBytesPerConnection(ctx),
  },
  {
    claim: 'an idle connection queues no data: no socket buffer memory',
    subject: 'server',
    metric: 'memory.tcpBufferBytesPerConnection',
    predict: () => between(0, 64, 'buffers are allocated when data is queued, whatever tcp_rmem says'),
  },
];

export default defineScenario({
  name: 'socket-memory',
  claim:
    'An idle connection costs a few KiB of kernel slab per end whatever the buffer sysctls say; queued data costs what the buffers hold, up to tcp_rmem.',
  story: `Urban Airship's first attempt at 500,000 connections (seed 003) ended with the OOM killer: the kernel's
memory for sockets ran out first (LOWMEM on 32-bit), not the program's. On 64-bit the ceiling is the
machine's memory, and the question is what one connection costs. The kernel keeps an established socket in
slab objects: struct tcp_sock (the TCP cache), the socket's inode (sock_inode_cache), the descriptor's file
(filp) and dentry, and the program's epoll registration (eventpoll_epi); with bridged traffic tracked, a
conntrack entry per connection too. The lab reads what each container's own memory cgroup was charged
(cgroup v1 memory.kmem.usage_in_bytes, v2 memory.stat) and, kept apart and labelled host-wide, how every
slab cache of the machine grew, with object sizes read from this kernel (/sys/kernel/slab). Over IPv6 the
socket is a struct tcp6_sock (tcp_sock and its ipv6_pinfo), from a cache of its own, TCPv6.
Socket buffers are not allocated for an idle connection: tcp_rmem and tcp_wmem (min, default, max bytes)
bound what a socket may queue, they are not reserved. Urban Airship set both to "4096 4096 16777216" to
keep idle sockets cheap; an idle socket costs the same either way. Memory follows the buffers when data
waits: a client that sends 16 KiB the server never reads leaves it in the server's receive queue, and the
kernel charges the skbs that hold it (more than the payload: each skb's truesize). tcp_mem, the machine's
ceiling for all socket buffers in pages, and sockstat's mem figure are host-wide: the lab reads them and
never sets them.`,
  seeds: ['003'],
  server: { ports: [8080, 8081] },
  client: { connections: CONNECTIONS.full / CLIENTS, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
  cases: [
    {
      name: 'idle connections, default buffers',
      about: `${CONNECTIONS.full.toLocaleString('en-US')} idle connections from ${CLIENTS} clients: what each end costs in kernel memory, cache by cache.`,
      clients: CLIENTS,
      holdSeconds: 2,
      quick: { client: { connections: CONNECTIONS.quick / CLIENTS } },
      expect: idle,
    },
    {
      name: `idle connections, tcp_rmem = tcp_wmem = "${URBAN_AIRSHIP}"`,
      about: "Urban Airship's buffer tuning on both ends: the same idle connections cost the same.",
      clients: CLIENTS,
      holdSeconds: 2,
      client: { sysctls: buffers(URBAN_AIRSHIP) },
      server: { sysctls: buffers(URBAN_AIRSHIP) },
      quick: { client: { connections: CONNECTIONS.quick / CLIENTS } },
      expect: idle,
    },
    {
      name: `${PAYLOAD / 1024} KiB unread on every connection`,
      about: 'Each client sends 16 KiB the server never reads: receive queues hold it, and the server end costs what they hold.',
      clients: CLIENTS,
      holdSeconds: 2,
      client: { sendBytes: PAYLOAD },
      server: { holdUnread: true },
      quick: { client: { connections: CONNECTIONS.quick / CLIENTS } },
      expect: [
        { claim: 'every connection is held', subject: 'server', metric: 'estab', predict: serverHolds },
        {
          claim: 'the kernel took all of it into the sockets',
          subject: 'each client',
          metric: 'opened',
          predict: ({ client }) => clientCeiling(client!),
        },
        {
          claim: "the server end's socket buffers hold the payload, in skbs",
          subject: 'server',
          metric: 'memory.tcpBufferBytesPerConnection',
          predict: () => between(PAYLOAD, PAYLOAD * 3, `${PAYLOAD} B queued per connection, charged as the skbs' truesize (headers, page rounding)`),
        },
        {
          claim: 'the client end keeps nothing queued: all of it was acknowledged',
          subject: 'each client',
          metric: 'memory.tcpBufferBytesPerConnection',
          predict: () => between(0, 64),
        },
      ],
    },
    {
      name: `${PAYLOAD / 1024} KiB unread, server tcp_rmem "4096 4096 4096"`,
      about: "The server's receive buffer capped at 4 KiB: the receive queues hold at most that, and the rest waits in the clients' send queues.",
      clients: CLIENTS,
      holdSeconds: 2,
      client: { sendBytes: PAYLOAD },
      server: { holdUnread: true, sysctls: { 'net.ipv4.tcp_rmem': '4096 4096 4096' } },
      quick: { client: { connections: CONNECTIONS.quick / CLIENTS } },
      expect: [
        { claim: 'every connection is held', subject: 'server', metric: 'estab', predict: serverHolds },
        {
          claim: 'the server end holds at most its receive buffer',
          subject: 'server',
          metric: 'memory.tcpBufferBytesPerConnection',
          predict: () => between(0, 8192, 'tcp_rmem max 4096 B of payload; the receive window closes before more is sent'),
        },
        {
          claim: "the rest waits in the clients' send queues",
          subject: 'each client',
          metric: 'memory.tcpBufferBytesPerConnection',
          predict: () => atLeast(PAYLOAD / 2, `of ${PAYLOAD} B sent, most is still queued on the client`),
        },
        { claim: 'no connection was refused', subject: 'each client', metric: 'errors.ECONNREFUSED', predict: () => exactly(0) },
      ],
    },
    {
      name: 'idle connections over IPv6',
      about: "The same idle connections over IPv6: each end's socket comes from the TCPv6 cache, a larger object than TCP's.",
      family: 'ipv6',
      clients: CLIENTS,
      holdSeconds: 2,
      quick: { client: { connections: CONNECTIONS.quick / CLIENTS } },
      expect: idle,
    },
  ],
});
