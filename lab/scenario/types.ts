/**
 * The types a scenario author sees. Everything here is plain data or pure functions. What a scenario file
 * says is derived from its schema (schema.ts), which validation checks; the theory's view is stated in
 * theory/context.ts, which the schema builds on.
 */
import type { z } from 'zod';
import type * as schema from './schema.ts';

export type {
  BindMode,
  BoundSocket,
  ClientTheory,
  Family,
  HoldPing,
  HostProcess,
  KernelRelease,
  MiddleTheory,
  ProxyTheory,
  ServerTheory,
  SourceAddress,
  SourceMode,
  TheoryContext,
} from './theory/context.ts';

export type Sysctls = z.infer<typeof schema.sysctls>;
export type SysctlValue = Sysctls[string];

export type HostSettings = z.infer<typeof schema.hostSettings>;
export type ServerSpec = z.infer<typeof schema.serverSpec>;
export type ClientSpec = z.infer<typeof schema.clientSpec>;
export type ClientProgram = z.infer<typeof schema.clientProgram>;
/** The host between the clients and the server: a NAT gateway or a reverse proxy. */
export type MiddleSpec = z.infer<typeof schema.middleSpec>;
export type NatMiddle = z.infer<typeof schema.natMiddle>;
export type ProxyMiddle = z.infer<typeof schema.proxyMiddle>;
export type ProxySettings = z.infer<typeof schema.proxySettings>;

/** A closed interval of acceptable values; max may be Infinity. */
export type Prediction = z.infer<typeof schema.prediction>;

/**
 * estab, timewait: `ss -s` inside the host. opened: connections the host's program opened (held, or for a
 * churn completed). pongs: answers to the Ping round. accepted: connections the server program accepted.
 * listen.backlog: the server's listener backlog. errors.<ERRNO>: the program's failures. nstat.<Counter>:
 * the namespace's counter. ping.<figure>: connscale's hold (holdPing). memory.<figure>: kernel memory per
 * connection end (memory.cgroupBytesPerConnection: the host's own cgroup; memory.slabBytesPerConnection:
 * host-wide slab, both ends). conntrack.<figure>: the middle host's own connection tracking (a gateway's).
 * fromMiddle: the server's connections whose peer is one of the middle host's addresses.
 */
export type Metric = z.infer<typeof schema.metric>;

/** Who is measured: the server, each client (one row each), the sum over all clients, or the middle host. */
export type Subject = z.infer<typeof schema.subject>;

export type Expectation = z.infer<typeof schema.expectation>;
export type CaseOverrides = z.infer<typeof schema.caseOverrides>;
export type CaseSpec = z.infer<typeof schema.caseSpec>;

type ScenarioDocument = z.infer<typeof schema.scenario>;
/** What a scenario file passes to defineScenario. */
export type ScenarioSpec = Omit<ScenarioDocument, 'kind'>;
/** What defineScenario returns: the spec, marked as made by it. */
export type Scenario = ScenarioSpec & Readonly<Pick<ScenarioDocument, 'kind'>>;
