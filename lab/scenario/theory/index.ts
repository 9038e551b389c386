/**
 * The theory the scenarios predict with, re-exported here and by the package entry (lab/index.ts): one
 * module per law (addresses, ports, descriptors, memory, ping, connect-cost, nginx, nat), and what they all use:
 * prediction.ts (the answer every law gives) and kernel.ts (the kernel release laws differ by). Not
 * re-exported: context.ts (the types the laws predict from, which types.ts re-exports) and arithmetic.ts
 * (internal to the laws).
 */
export * from './prediction.ts';
export * from './kernel.ts';
export * from './addresses.ts';
export * from './ports.ts';
export * from './descriptors.ts';
export * from './memory.ts';
export * from './ping.ts';
export * from './connect-cost.ts';
export * from './nginx.ts';
export * from './proxy.ts';
export * from './nat.ts';
