/** A case's plan: plain data saying which hosts exist, with which addresses, sysctls, limits and programs. */
import type { BindMode, Expectation, Family, HoldPing, Scenario, SourceAddress, SourceMode } from '../scenario/types.ts';
import type { MergedCase } from './merge.ts';
import type { ProxyConfig } from '../proxy/config.ts';

/** The host between the clients and the server: a NAT gateway they are routed through, or a proxy they connect to. */
export type MiddleRole = 'gateway' | 'proxy';
export type Role = 'server' | 'client' | MiddleRole;

/** A route a host gets from outside (the runtime, as root in its namespace): the host itself stays unprivileged. */
export interface PlannedRoute {
  /** An address or CIDR: "198.18.7.2/32". */
  to: string;
  via: string;
}

export interface PlannedHost {
  name: string;
  role: Role;
  ip: string;
  /** Its IPv6 address, where the run's network carries IPv6 (the runtime gives it, as it gives ip). */
  ip6?: string;
  sysctls: Record<string, string>;
  nofile: number;
  /** Capabilities added to the runtime's default set, each with the scenario's reason. */
  capabilities: Record<string, string>;
  /** Addresses (CIDR) added inside the host beyond the one the runtime gives it. */
  extraAddresses: string[];
  /** The program the host runs for the case, as argv inside the host. */
  program: string[];
  /** The scenario's own program (not the lab's): its command, and the absolute path of the Dockerfile its image builds from. */
  customProgram?: { command: string[]; dockerfile?: string };
  /** Routes set in its namespace from outside, after the runtime's default route is gone (a client's via the gateway). */
  routes?: PlannedRoute[];
  /**
   * Commands run as root in its network namespace from outside, once it is up and before its program starts
   * (netfilter rules, addresses, sysctls the namespace cannot be given at creation): the host stays unprivileged.
   */
  setFromOutside?: string[][];
  /**
   * Its namespace must track connections (a NAT needs conntrack): the runtime leaves out the NOTRACK rules it
   * puts in the others' namespaces.
   */
  tracksConnections?: true;
}

/** What a NAT gateway does, as planned: the rules are in setFromOutside; this is what the theory and the views read. */
export interface PlannedNat {
  /** The addresses it translates to, its own first; with several, each client is given one in turn. */
  addresses: string[];
  /** Which gateway address each client's connections leave from, by client name. */
  addressOf: Record<string, string>;
  /** The ports translation picks from ("--to-ports"); none: the kernel's own search, 1024-65535. */
  ports?: readonly [number, number];
  randomFully: boolean;
  /** The machine's nf_conntrack_max lowered to this for the case (its table's ceiling); none: as it is. */
  conntrackMax?: number;
}

/**
 * The middle tier: the host the clients reach the server through. Its legs: the clients to it (their targets,
 * or for a gateway their routes), and it on to the server's endpoints (backends).
 */
export interface PlannedMiddle extends PlannedHost {
  role: MiddleRole;
  /** Every address it connects onward from; ip is the first. */
  ips: string[];
  /** The server's endpoints it connects (or forwards) onward to: "ip:port". */
  backends: string[];
  nat?: PlannedNat;
  /** A proxy's settings, as planned (helper B's: the program is in `program`). */
  proxy?: PlannedProxy;
}

/** A proxy as planned: its software, the ports it listens on, its configuration resolved from the case's settings. */
export interface PlannedProxy {
  software: 'nginx' | 'haproxy';
  /** The ports it listens on (on ip), which the clients aim at. */
  ports: number[];
  config: ProxyConfig;
}

/** Who connects to whom: one leg of the case's path, from hosts to endpoints, directly or through a gateway. */
export interface PlannedLeg {
  /** Host names. */
  from: string[];
  /** The host they connect to (a gateway forwards to the server: the leg's host is the server). */
  to: string;
  /** The endpoints they connect to: "ip:port". */
  endpoints: string[];
  /** A gateway the leg passes through, by name. */
  via?: string;
}

export interface PlannedServer extends PlannedHost {
  role: 'server';
  /** Every address the server answers on; ip is the first. */
  ips: string[];
  /** Its IPv6 addresses, where the case connects over IPv6: ip6 first. */
  ips6?: string[];
  ports: number[];
  backlog: number;
  workers: number;
  /** A program of the scenario's own is ready once its kernel lists a listener on each of these ports. */
  ready?: { ports: number[]; timeoutSeconds: number };
  /** A program of the scenario's own: what the scenario set it to, for the theory. */
  settings?: Record<string, number | string | boolean>;
}

export interface PlannedClient extends PlannedHost {
  role: 'client';
  /** The server's endpoints it connects to: "ip:port", "[ip6]:port". */
  targets: string[];
  /** The family it connects over (IPv4 where not said). */
  family?: Family;
  /** Which of its addresses its sockets leave from (the route's source where not said). */
  source?: SourceMode;
  /** Its addresses in the families it connects over, each family's in the order they are added (ip, ip6 first); just ip where not said. */
  addresses?: SourceAddress[];
  /** The addresses its flood binds each socket to in turn (labclient --sources); none: the route's choice. */
  sources?: string[];
  asked: number;
  processes: number;
  inflight: number;
  bind: BindMode;
  socketPortRange?: readonly [number, number];
  ping: boolean;
  holdPing?: HoldPing;
  /** connectCost: the ports its connect() calls may pick from (all destinations), which the cost is counted against. */
  costPorts?: number;
  /** client.request: HTTP GETs, the answers each connection takes, and with a churn how long it lasts. */
  requests?: { perConnection: number; churnSeconds?: number };
}

export interface CasePlan {
  runId: string;
  scenario: string;
  caseName: string;
  about?: string;
  quick: boolean;
  subnet: string;
  /** The run's IPv6 subnet, where its network carries IPv6 (a case over IPv6 needs it). */
  subnet6?: string;
  /** The family the case connects over (IPv4 where not said). */
  family?: Family;
  deadlineSeconds: number;
  /** Seconds the connections are held after the fill before collection. */
  holdSeconds: number;
  server: PlannedServer;
  clients: PlannedClient[];
  /** The host between the clients and the server, where the case has one. */
  middle?: PlannedMiddle;
  /** Who connects to whom, tier by tier: clients -> server, or clients -> middle -> server. */
  legs: PlannedLeg[];
  expectations: Expectation[];
}

export interface PlanOptions {
  runId: string;
  subnet: string;
  quick: boolean;
  /** Highest open-file limit a container may get on this engine. */
  nofileCeiling: number;
  /** Where the scenario came from, for error messages. */
  file: string;
  /** Fewer clients than the subnet holds, where the runtime keeps addresses of it for itself, and why. */
  clientRoom?: { clients: number; why: string };
  /** The family every case connects over (--family), whatever the scenario says. */
  family?: Family;
  /** The run's network carries IPv6 (some case uses it): every host gets its IPv6 address too. */
  ipv6?: boolean;
}

/** What every planning step reads: the case, its merged settings, and where in the scenario it was written. */
export interface CaseInPlanning {
  scenario: Scenario;
  index: number;
  /** The case's path in the scenario for error messages: cases[<index>]. */
  at: string;
  merged: MergedCase;
  options: PlanOptions;
}
