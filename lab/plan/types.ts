/** A case's plan: plain data saying which hosts exist, with which addresses, sysctls, limits and programs. */
import type { BindMode, Expectation, HoldPing, Scenario } from '../scenario/types.ts';
import type { MergedCase } from './merge.ts';

export type Role = 'server' | 'client';

export interface PlannedHost {
  name: string;
  role: Role;
  ip: string;
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
  targets: string[];
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
