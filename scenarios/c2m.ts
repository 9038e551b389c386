import { defineScenario } from 'tcp-limits-lab';
import c1m, { PER_CLIENT } from './c1m.ts';

const CLIENTS = 32; // x 62,500 = 2,000,000
// connscale's hold, as in c1m: a Ping every 5 minutes on each connection, a fifth of them during the minute.
const HOLD_PING = c1m.client!.holdPing!;

export default defineScenario({
  name: 'c2m',
  claim:
    'Two million concurrent connections in one server container on a 2-core machine, both ends in its one kernel, or the wall that stops it, named with its figures.',
  story: `c1m's set-up twice over: ${CLIENTS} client containers, four server ports, SO_REUSEPORT workers under the
machine's 20,000 open files per process. Every connection has both its ends in this one kernel, so it costs
both ends' slab (struct tcp_sock, inode, file, dentry, epoll entry: about 3.8 KB each here), and with
bridged traffic tracked three conntrack entries more (the host's table and each end's namespace, where
Docker's NAT rules for its DNS load conntrack). Two million of those want about 20 GiB of kernel memory on a
24 GiB machine: memory is the wall to watch, not ports or descriptors.
- conntrack: --notrack exempts the run's subnet from tracking (NOTRACK rules in the host's raw table and
  in each container's), which saves the three entries per connection; --raise-conntrack would keep them
  and need a table of 2 million.
- the memory check: before anything starts the lab sets the connections times what one costs (as last
  measured here, else the theory's most) against the memory available, less the tenth of the machine it
  keeps free, and refuses a case that does not fit (exit 3, with the arithmetic); --until-memory-floor runs
  it anyway, and the lab then tells the floods to stop asking once available memory falls to the floor.
  Either way the machine never meets the OOM killer.
- open files: two million connections are four million open files of the machine's one table (both ends
  here), past fs.file-max (about 2.5 million on this kind of machine): --raise-file-max lets the lab raise
  it for the run and put it back after.
- ports: each client IP connects to four server ports with 1024-65535, so 62,500 connections use under a
  quarter of each destination's range: the kernel's port search stays in its fast, sparse regime.`,
  seeds: ['001', '004'],
  deadlineSeconds: 900,
  server: c1m.server!,
  client: { connections: PER_CLIENT, holdPing: HOLD_PING, inflight: 256, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
  expect: c1m.expect!,
  cases: [
    {
      name: `two million from ${CLIENTS} clients`,
      about:
        'Thirty-two client IPs, four server ports, two million connections held for a minute while they ping connscale-style, round trips measured, memory watched.',
      clients: CLIENTS,
      quick: {
        clients: 4,
        client: {
          connections: 1000,
          holdPing: { seconds: 4, intervalMs: 2000, timeoutMs: 1000 },
          sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' },
        },
      },
    },
  ],
});
