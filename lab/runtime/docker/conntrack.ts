/**
 * Bridged traffic between containers goes through the host's netfilter when br_netfilter is loaded with
 * bridge-nf-call-iptables=1: every lab connection then takes a host-wide conntrack entry, and past
 * nf_conntrack_max new SYNs are dropped ("nf_conntrack: table full"). The lab reads that ceiling, and raises
 * it only when the user says so, restoring the old value afterwards.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ConnectionTracking, Log } from '../runtime.ts';

const BRIDGE_CALLS_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const CONNTRACK_MAX = '/proc/sys/net/netfilter/nf_conntrack_max';
const CONNTRACK_COUNT = '/proc/sys/net/netfilter/nf_conntrack_count';

const read = (path: string) => Number(readFileSync(path, 'utf8').trim());

export const hostConntrack: ConnectionTracking = {
  async read() {
    const tracked = existsSync(BRIDGE_CALLS_IPTABLES) && existsSync(CONNTRACK_MAX) && read(BRIDGE_CALLS_IPTABLES) === 1;
    if (!tracked) return { tracked: false, max: Infinity, count: 0 };
    return { tracked: true, max: read(CONNTRACK_MAX), count: existsSync(CONNTRACK_COUNT) ? read(CONNTRACK_COUNT) : 0 };
  },

  async raise(max: number, log: Log) {
    const before = read(CONNTRACK_MAX);
    writeFileSync(CONNTRACK_MAX, String(max));
    log(`raised the host's nf_conntrack_max from ${before} to ${max} for this run (--raise-conntrack)`);
    return async () => {
      writeFileSync(CONNTRACK_MAX, String(before));
      log(`restored the host's nf_conntrack_max to ${before}`);
    };
  },
};
