/** A case's plan: plain data saying which hosts exist, with which addresses, sysctls, limits and programs. */
import type { BindMode, Expectation, Family, HoldPing, Scenario, SourceAddress, SourceMode } from '../scenario/types.ts';
import type { MergedCase } from './merge.ts';

export type Role = 'server' | 'client';

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
