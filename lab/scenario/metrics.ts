/** The figures an expectation can name under ping.* and memory.*: one list each, for validation and measurement. */

/** connscale's hold: counts, the achieved rate, and round-trip percentiles in ms. */
export const PING_FIGURES = ['sent', 'pongs', 'timeouts', 'perSecond', 'p50', 'p90', 'p99', 'p999', 'max'] as const;
export type PingFigure = (typeof PING_FIGURES)[number];

/** Kernel memory per connection the host holds. */
export const MEMORY_FIGURES = ['cgroupBytesPerConnection', 'tcpBufferBytesPerConnection', 'slabBytesPerConnection'] as const;
export type MemoryFigure = (typeof MEMORY_FIGURES)[number];
