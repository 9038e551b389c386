/**
 * Checks a loaded scenario before anything starts. Every problem is an InputError that names the file and
 * the field (`cases[2].client.sysctls["fs.file-max"]`).
 */
import { InputError } from '../errors.ts';
import { parsePortList, parsePortRange } from './theory.ts';
import { sysctlProblem } from './sysctls.ts';
import type { Scenario } from './types.ts';
import { MEMORY_FIGURES, PING_FIGURES } from './metrics.ts';

type Obj = Record<string, unknown>;

const SCENARIO_KEYS = ['kind', 'name', 'claim', 'story', 'seeds', 'server', 'client', 'deadlineSeconds', 'subnet', 'expect', 'cases'];
const SERVER_KEYS = ['ports', 'addresses', 'backlog', 'accept', 'closeFirst', 'protocol', 'workers', 'holdUnread', 'emfileBackoffMs', 'sysctls', 'nofile', 'capabilities'];
/** Server addresses take .2 to .9 of the subnet; clients start at .11. */
export const MAX_SERVER_ADDRESSES = 8;
const CLIENT_KEYS = ['connections', 'churn', 'program', 'inflight', 'connectTimeoutMs', 'bind', 'socketPortRange', 'ping', 'pingWaitMs', 'keepAsking', 'processes', 'sendBytes', 'holdPing', 'sysctls', 'nofile', 'capabilities'];
/** Capabilities an experiment may ask for; anything broader (SYS_ADMIN) has no place in a network lab. */
export const ALLOWED_CAPABILITIES = ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE', 'SYS_PTRACE'];
const CASE_KEYS = ['name', 'about', 'expect', 'quick', 'clients', 'holdSeconds', 'client', 'server'];
const OVERRIDE_KEYS = ['clients', 'holdSeconds', 'client', 'server'];
const EXPECTATION_KEYS = ['claim', 'subject', 'metric', 'predict'];
const METRIC = new RegExp(`^(estab|timewait|opened|pongs|accepted|listen\\.backlog|errors\\.E[A-Z]+|nstat\\.[A-Za-z]+|ping\\.(${PING_FIGURES.join('|')})|memory\\.(${MEMORY_FIGURES.join('|')}))$`);
const SUBJECTS = ['server', 'each client', 'all clients'];
const BIND_MODES = ['none', 'any', 'reuseaddr', 'nobindport'];
export const MAX_CLIENTS = 64;
/** The flood programs' own caps (MAX_PROCS in labclient.c, MAX_WORKERS in labserver.c). */
const MAX_CLIENT_PROCESSES = 1024;
const MAX_SERVER_WORKERS = 256;
export const MAX_CONNECTIONS_PER_CLIENT = 1_000_000;
export const MAX_DEADLINE_SECONDS = 3600;

export function validateScenario(value: unknown, file: string): Scenario {
  const fail = (field: string | undefined, reason: string): never => {
    throw new InputError(file, field, reason);
  };
  const v = new Checker(fail);
  const s = v.object(value, undefined, 'the default export must be defineScenario({...})');
  if (s.kind !== 'lab.scenario') fail(undefined, 'the default export is not made by defineScenario({...})');
  v.keys(s, SCENARIO_KEYS, '');
  v.string(s.name, 'name');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(s.name as string)) fail('name', 'use lowercase letters, digits and dashes');
  v.string(s.claim, 'claim');
  v.optionalString(s.story, 'story');
  if (s.seeds !== undefined) v.array(s.seeds, 'seeds').forEach((x, i) => v.string(x, `seeds[${i}]`));
  server(v, s.server, 'server', true);
  if (s.client !== undefined) client(v, s.client, 'client');
  if (s.deadlineSeconds !== undefined) v.integer(s.deadlineSeconds, 'deadlineSeconds', 1, MAX_DEADLINE_SECONDS);
  if (s.subnet !== undefined) subnet(v, s.subnet, 'subnet');
  if (s.expect !== undefined) expectations(v, s.expect, 'expect');
  const cases = v.array(s.cases, 'cases');
  if (cases.length === 0) fail('cases', 'needs at least one case');
  const names = new Set<string>();
  cases.forEach((c, i) => {
    const at = `cases[${i}]`;
    const obj = v.object(c, at);
    v.keys(obj, CASE_KEYS, at);
    v.string(obj.name, `${at}.name`);
    if (names.has(obj.name as string)) fail(`${at}.name`, `"${obj.name}" is used by an earlier case`);
    names.add(obj.name as string);
    v.optionalString(obj.about, `${at}.about`);
    overrides(v, obj, at);
    if (obj.quick !== undefined) {
      const quick = v.object(obj.quick, `${at}.quick`);
      v.keys(quick, OVERRIDE_KEYS, `${at}.quick`);
      overrides(v, quick, `${at}.quick`);
    }
    if (obj.expect !== undefined) expectations(v, obj.expect, `${at}.expect`);
    if (s.expect === undefined && obj.expect === undefined) fail(`${at}.expect`, 'the case has no expectation to check');
  });
  return value as Scenario;
}

function overrides(v: Checker, obj: Obj, at: string): void {
  if (obj.clients !== undefined) v.integer(obj.clients, `${at}.clients`, 1, MAX_CLIENTS);
  if (obj.holdSeconds !== undefined) v.integer(obj.holdSeconds, `${at}.holdSeconds`, 0, MAX_DEADLINE_SECONDS);
  if (obj.client !== undefined) client(v, obj.client, `${at}.client`);
  if (obj.server !== undefined) server(v, obj.server, `${at}.server`, false);
}

function server(v: Checker, value: unknown, at: string, complete: boolean): void {
  const obj = v.object(value, at);
  v.keys(obj, SERVER_KEYS, at);
  if (complete || obj.ports !== undefined) {
    const ports = v.array(obj.ports, `${at}.ports`);
    if (ports.length === 0) v.fail(`${at}.ports`, 'needs at least one port');
    ports.forEach((p, i) => v.integer(p, `${at}.ports[${i}]`, 1, 65535));
  }
  if (obj.backlog !== undefined) v.integer(obj.backlog, `${at}.backlog`, 0, 1 << 20);
  if (obj.accept !== undefined && obj.accept !== 'immediate' && obj.accept !== 'paused') {
    const accept = v.object(obj.accept, `${at}.accept`, "must be 'immediate', 'paused' or { everyMs: N }");
    v.keys(accept, ['everyMs'], `${at}.accept`);
    v.integer(accept.everyMs, `${at}.accept.everyMs`, 1, 60_000);
  }
  for (const flag of ['closeFirst', 'holdUnread'] as const) {
    if (obj[flag] !== undefined && typeof obj[flag] !== 'boolean') v.fail(`${at}.${flag}`, 'must be true or false');
  }
  if (obj.workers !== undefined) v.integer(obj.workers, `${at}.workers`, 1, MAX_SERVER_WORKERS);
  if (obj.emfileBackoffMs !== undefined) v.integer(obj.emfileBackoffMs, `${at}.emfileBackoffMs`, 0, 60_000);
  if (obj.protocol !== undefined && obj.protocol !== 'ping' && obj.protocol !== 'http') v.fail(`${at}.protocol`, "must be 'ping' or 'http'");
  if (obj.addresses !== undefined) {
    const addresses = v.integer(obj.addresses, `${at}.addresses`, 1, MAX_SERVER_ADDRESSES);
    const caps = obj.capabilities as Record<string, unknown> | undefined;
    if (addresses > 1 && !caps?.NET_ADMIN) {
      v.fail(`${at}.addresses`, `${addresses} addresses are added inside the server: declare capabilities: { NET_ADMIN: '<why>' } beside it`);
    }
  }
  hostSettings(v, obj, at);
}

function client(v: Checker, value: unknown, at: string): void {
  const obj = v.object(value, at);
  v.keys(obj, CLIENT_KEYS, at);
  if (obj.connections !== undefined && obj.connections !== 'fill') {
    v.integer(obj.connections, `${at}.connections`, 1, MAX_CONNECTIONS_PER_CLIENT, `a number from 1 to ${MAX_CONNECTIONS_PER_CLIENT} or 'fill'`);
  }
  if (obj.inflight !== undefined) v.integer(obj.inflight, `${at}.inflight`, 1, 65536);
  if (obj.connectTimeoutMs !== undefined) v.integer(obj.connectTimeoutMs, `${at}.connectTimeoutMs`, 100, 600_000);
  if (obj.pingWaitMs !== undefined) v.integer(obj.pingWaitMs, `${at}.pingWaitMs`, 100, 600_000);
  if (obj.processes !== undefined) v.integer(obj.processes, `${at}.processes`, 1, MAX_CLIENT_PROCESSES);
  if (obj.sendBytes !== undefined) v.integer(obj.sendBytes, `${at}.sendBytes`, 1, 64 << 20);
  if (obj.holdPing !== undefined) {
    const hold = v.object(obj.holdPing, `${at}.holdPing`, 'must be { seconds, intervalMs, timeoutMs }');
    v.keys(hold, ['seconds', 'intervalMs', 'timeoutMs'], `${at}.holdPing`);
    v.integer(hold.seconds, `${at}.holdPing.seconds`, 1, MAX_DEADLINE_SECONDS);
    v.integer(hold.intervalMs, `${at}.holdPing.intervalMs`, 1, 3_600_000);
    v.integer(hold.timeoutMs, `${at}.holdPing.timeoutMs`, 1, 3_600_000);
  }
  if (obj.program !== undefined) {
    const program = v.object(obj.program, `${at}.program`, 'must be { command: [...], dockerfile?: "path" }');
    v.keys(program, ['command', 'dockerfile'], `${at}.program`);
    const command = v.array(program.command, `${at}.program.command`);
    if (command.length === 0) v.fail(`${at}.program.command`, 'needs at least the program to run');
    command.forEach((arg, i) => {
      if (typeof arg !== 'string') v.fail(`${at}.program.command[${i}]`, 'must be a string');
    });
    if (program.dockerfile !== undefined) v.string(program.dockerfile, `${at}.program.dockerfile`);
  }
  if (obj.churn !== undefined) {
    const churn = v.object(obj.churn, `${at}.churn`, 'must be { rate: connections per second, seconds: N }');
    v.keys(churn, ['rate', 'seconds'], `${at}.churn`);
    v.integer(churn.rate, `${at}.churn.rate`, 1, 100_000);
    v.integer(churn.seconds, `${at}.churn.seconds`, 1, 600);
  }
  for (const flag of ['ping', 'keepAsking'] as const) {
    if (obj[flag] !== undefined && typeof obj[flag] !== 'boolean') v.fail(`${at}.${flag}`, 'must be true or false');
  }
  if (obj.keepAsking && (obj.connections === undefined || obj.connections === 'fill')) {
    v.fail(`${at}.keepAsking`, "needs a number of connections to attempt, not 'fill'");
  }
  if (obj.bind !== undefined && !BIND_MODES.includes(obj.bind as string)) {
    v.fail(`${at}.bind`, `must be one of ${BIND_MODES.join(', ')}`);
  }
  if (obj.socketPortRange !== undefined) {
    const range = typeof obj.socketPortRange === 'string' ? /^\s*(\d+)\s+(\d+)\s*$/.exec(obj.socketPortRange) : null;
    const [low, high] = range ? [Number(range[1]), Number(range[2])] : [0, 0];
    if (!range || low < 1 || high > 65535 || low > high) v.fail(`${at}.socketPortRange`, 'must be "LOW HIGH" with 1 <= LOW <= HIGH <= 65535');
  }
  hostSettings(v, obj, at);
}

function hostSettings(v: Checker, obj: Obj, at: string): void {
  if (obj.nofile !== undefined) v.integer(obj.nofile, `${at}.nofile`, 64, 1 << 24);
  if (obj.capabilities !== undefined) {
    for (const [cap, why] of Object.entries(v.object(obj.capabilities, `${at}.capabilities`))) {
      const field = `${at}.capabilities.${cap}`;
      if (!ALLOWED_CAPABILITIES.includes(cap)) v.fail(field, `is not one the lab grants (${ALLOWED_CAPABILITIES.join(', ')})`);
      if (typeof why !== 'string' || why.trim().length < 10) v.fail(field, 'needs a sentence saying why the experiment needs it');
    }
  }
  if (obj.sysctls === undefined) return;
  const sysctls = v.object(obj.sysctls, `${at}.sysctls`);
  for (const [name, val] of Object.entries(sysctls)) {
    const field = `${at}.sysctls["${name}"]`;
    const problem = sysctlProblem(name);
    if (problem) v.fail(field, `${name} ${problem}`);
    if (typeof val !== 'string' && typeof val !== 'number') v.fail(field, 'must be a string or a number');
    const text = String(val);
    if (name === 'net.ipv4.ip_local_port_range') portRange(v, text, field);
    if (name === 'net.ipv4.ip_local_reserved_ports') {
      try {
        parsePortList(text);
      } catch {
        v.fail(field, `"${text}" is not a port list such as "40100-40199,40500"`);
      }
    }
  }
}

function portRange(v: Checker, text: string, field: string): void {
  let range: readonly [number, number];
  try {
    range = parsePortRange(text);
  } catch {
    return v.fail(field, `"${text}" is not a range such as "40000 40999"`);
  }
  const [low, high] = range;
  if (low < 1 || high > 65535) v.fail(field, `"${text}" must lie within 1-65535`);
  if (low > high) v.fail(field, `"${text}" has its low end above its high end`);
}

function subnet(v: Checker, value: unknown, at: string): void {
  const text = v.string(value, at);
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 16 || Number(m[5]) > 29) {
    v.fail(at, `"${text}" is not an IPv4 subnet from /16 to /29 such as "198.18.7.0/24"`);
  }
}

function expectations(v: Checker, value: unknown, at: string): void {
  v.array(value, at).forEach((e, i) => {
    const field = `${at}[${i}]`;
    const obj = v.object(e, field);
    v.keys(obj, EXPECTATION_KEYS, field);
    v.string(obj.claim, `${field}.claim`);
    if (!SUBJECTS.includes(obj.subject as string)) v.fail(`${field}.subject`, `must be one of ${SUBJECTS.map((s) => `'${s}'`).join(', ')}`);
    const metric = v.string(obj.metric, `${field}.metric`);
    if (!METRIC.test(metric)) {
      v.fail(`${field}.metric`, `"${metric}" is not estab, timewait, opened, pongs, accepted, listen.backlog, errors.<ERRNO>, nstat.<Counter>, ping.<figure> or memory.<figure>`);
    }
    if (typeof obj.predict !== 'function') v.fail(`${field}.predict`, 'must be a function of the theory context');
  });
}

class Checker {
  constructor(readonly fail: (field: string | undefined, reason: string) => never) {}

  object(value: unknown, field: string | undefined, reason = 'must be an object'): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, reason);
    return value as Obj;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, value === undefined ? 'is missing' : 'must be a list');
    return value as unknown[];
  }

  string(value: unknown, field: string): string {
    if (value === undefined) this.fail(field, 'is missing');
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'must be a non-empty string');
    return value as string;
  }

  optionalString(value: unknown, field: string): void {
    if (value !== undefined) this.string(value, field);
  }

  integer(value: unknown, field: string, min: number, max: number, expected = `a whole number from ${min} to ${max}`): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be ${expected} (got ${JSON.stringify(value)})`);
    }
    return value as number;
  }

  keys(obj: Obj, allowed: readonly string[], at: string): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const near = closest(key, allowed);
      this.fail(at ? `${at}.${key}` : key, `unknown field${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
