/** The figures an expectation can name under ping.*, memory.* and connect.*: one list each, for validation and measurement. */

/**
 * connscale's hold: counts, the achieved rate, and round-trip percentiles in ms; heldPerSecond, the rate asked
 * at the cadence the client held (every process to its end, no Pong late: 0 where it held none).
 */
export const PING_FIGURES = ['sent', 'pongs', 'timeouts', 'perSecond', 'heldPerSecond', 'p50', 'p90', 'p99', 'p999', 'max'] as const;
export type PingFigure = (typeof PING_FIGURES)[number];

/** Kernel memory per connection the host holds. */
export const MEMORY_FIGURES = ['cgroupBytesPerConnection', 'tcpBufferBytesPerConnection', 'slabBytesPerConnection'] as const;
export type MemoryFigure = (typeof MEMORY_FIGURES)[number];

/**
 * The cost of one connect() as the port range fills (a client with connectCost): sparseUs, the median time of
 * one connect() with 4-48% of its ports in use; atN, the median around N% in use (8-16%, 50-58%, 86-94%,
 * 96-100%) as a multiple of that (windows in lab/results/connect-cost.ts).
 */
export const CONNECT_FIGURES = ['sparseUs', 'at10', 'at50', 'at90', 'at99'] as const;
export type ConnectFigure = (typeof CONNECT_FIGURES)[number];

/**
 * Connection tracking in the middle host's own namespace (a NAT gateway): count and max from
 * /proc/sys/net/netfilter, the rest summed over CPUs from /proc/net/stat/nf_conntrack (what `conntrack -S` shows).
 */
export const CONNTRACK_FIGURES = ['count', 'max', 'insertFailed', 'drop', 'earlyDrop'] as const;
export type ConntrackFigure = (typeof CONNTRACK_FIGURES)[number];
