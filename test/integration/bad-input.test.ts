/**
 * Bad input through the real command line: each gets one line naming the file and the field, exit 2, and
 * no container or network is created. The scenario files are written for each case from a valid one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { type CliResult, lab, labelledObjects, prepareRuntime, projectRoot } from './helpers.ts';

interface Parts {
  name?: string;
  claim?: string;
  server?: string;
  client?: string;
  cases?: string;
  extra?: string;
  expect?: string;
}

/** A scenario file's source: a valid scenario with some parts replaced. */
export function source(parts: Parts): string {
  return `import { defineScenario } from '${join(projectRoot, 'lab/index.ts')}';
export default defineScenario({
  name: ${parts.name ?? "'bad-input'"},
  claim: ${parts.claim ?? "'one part of this scenario is wrong'"},
  server: ${parts.server ?? '{ ports: [9000] }'},
  client: ${parts.client ?? "{ connections: 10, sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } }"},
  ${parts.extra ?? ''}
  expect: ${parts.expect ?? "[{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 10 }]"},
  cases: ${parts.cases ?? "[{ name: 'one', clients: 1 }]"},
} as any);
`;
}

export type Row = [what: string, content: string | Parts | null, args: (file: string) => string[], message: (file: string) => RegExp];
const run = (file: string) => ['run', file, '--quick'];
const field = (f: string, reason: string) => (file: string) => new RegExp(`^lab: ${escape(file)}: ${escape(f)}: ${reason}`);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const OVERLAP = '198.19.251.0/24';
const BENCHMARKING = 'is outside 198\\.18\\.0\\.0/15, the benchmarking range the lab keeps its networks in';
const SHELL = 'may hold only digits, spaces, tabs, commas and dashes';
const PREDICT = "[{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 1 }]";
const expectation = (fields: string) => `[{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 1, ${fields} }]`;

export const rows: Row[] = [
  ['a missing scenario file', null, run, (f) => new RegExp(`^lab: ${escape(f)}: no such scenario file$`)],
  ['a folder given as the scenario', 'DIR', run, (f) => new RegExp(`^lab: ${escape(f)}: is a folder, not a scenario file$`)],
  ['a syntax error', "import { defineScenario } from 'x';\nexport default defineScenario({ name: ", run, (f) => new RegExp(`^lab: ${escape(f)}:2:39: cannot be loaded: Unexpected end of file$`)],
  ['no default export', 'export const scenario = {};\n', run, (f) => new RegExp(`^lab: ${escape(f)}: has no default export`)],
  ['a default export that is not a scenario', "export default { name: 'x', claim: 'y' };\n", run, (f) => new RegExp(`^lab: ${escape(f)}: the default export is not made by defineScenario`)],
  ['a misspelt top-level field', { extra: 'deadlineSecond: 5,' }, run, field('deadlineSecond', 'unknown field \\(did you mean "deadlineSeconds"\\?\\)')],
  ['a misspelt client field', { client: '{ conections: 10 }' }, run, field('client.conections', 'unknown field \\(did you mean "connections"\\?\\)')],
  ['ports given as a string', { server: "{ ports: '80' }" }, run, field('server.ports', 'must be a list')],
  ['a client count given as a string', { cases: "[{ name: 'one', clients: 'two' }]" }, run, field('cases[0].clients', 'must be a whole number')],
  ['a negative connection count', { client: '{ connections: -10 }' }, run, field('client.connections', 'must be a number from 1 to 1000000')],
  ['an absurd connection count', { client: '{ connections: 1e12 }' }, run, field('client.connections', 'must be a number from 1 to 1000000')],
  ['zero clients', { cases: "[{ name: 'one', clients: 0 }]" }, run, field('cases[0].clients', 'must be a whole number from 1 to 64')],
  ['an absurd client count', { cases: "[{ name: 'one', clients: 5000 }]" }, run, field('cases[0].clients', 'must be a whole number from 1 to 64')],
  ['a port range with low above high', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '60999 32768' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', '"60999 32768" has its low end above its high end')],
  ['a port range outside 1-65535', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '1024 70000' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', '"1024 70000" must lie within 1-65535')],
  ['a server port of 0', { server: '{ ports: [0] }' }, run, field('server.ports[0]', 'must be a whole number from 1 to 65535')],
  ['a host-wide sysctl (fs.file-max)', { server: "{ ports: [9000], sysctls: { 'fs.file-max': 2000000 } }" }, run, field('server.sysctls["fs.file-max"]', 'fs.file-max is host-wide: Docker cannot set it per container')],
  ['a host-wide sysctl (vm.max_map_count)', { client: "{ sysctls: { 'vm.max_map_count': 262144 } }" }, run, field('client.sysctls["vm.max_map_count"]', 'vm.max_map_count is host-wide')],
  ['an unknown sysctl', { client: "{ sysctls: { 'net.ipv4.tcp_turbo': 1 } }" }, run, field('client.sysctls["net.ipv4.tcp_turbo"]', 'net.ipv4.tcp_turbo is not a per-network-namespace sysctl')],
  ['a subnet that overlaps an existing network', { extra: `subnet: '${OVERLAP}',` }, run, field('subnet', `${escape(OVERLAP)} overlaps the engine's network 198\\.19\\.251\\.0/25`)],
  ['more clients than the subnet holds', { extra: "subnet: '198.19.252.0/28',", cases: "[{ name: 'one', clients: 5 }]" }, run, field('cases[0].clients', '5 clients do not fit in 198\\.19\\.252\\.0/28 \\(room for 4 beside the server\\)')],
  ['nofile above what the engine allows', { client: '{ nofile: 1048576 }' }, run, field('cases[0].client.nofile', '1048576 is above what this engine allows per process \\(\\d+\\)')],
  ['a deadline over an hour', { extra: 'deadlineSeconds: 86400,' }, run, field('deadlineSeconds', 'must be a whole number from 1 to 3600')],
  ['a capability the lab never grants', { server: "{ ports: [9000], capabilities: { SYS_ADMIN: 'to mount things in the server' } }" }, run, field('server.capabilities.SYS_ADMIN', 'is not one the lab grants')],
  ['a capability without a reason', { server: "{ ports: [9000], capabilities: { NET_ADMIN: '' } }" }, run, field('server.capabilities.NET_ADMIN', 'needs a sentence saying why')],
  ['an unknown metric', { expect: "[{ claim: 'x', subject: 'server', metric: 'connections', predict: () => 1 }]" }, run, field('expect[0].metric', '"connections" is not estab, timewait, opened, pongs, accepted, listen.backlog, errors')],
  ['two cases with one name', { cases: "[{ name: 'one' }, { name: 'one' }]" }, run, field('cases[1].name', '"one" is used by an earlier case')],
  ['an unknown flag', {}, (f) => ['run', f, '--turbo'], () => /^lab: Unknown option `--turbo` \(see lab --help\)$/],
  ['a flag without its value', {}, (f) => ['run', f, '--json'], () => /^lab: option `--json <file>` value is missing \(see lab --help\)$/],
  ['an unknown case', {}, (f) => ['run', f, '--case', 'seven'], field('--case', 'no case named "seven"')],
  ['lab compare on a file that is not results JSON', { extra: '' }, (f) => ['compare', f, f], (f) => new RegExp(`^lab: ${escape(f)}: `)],

  // The subnet stays inside the benchmarking range: the host gets a route to it.
  ['a subnet in a public range', { extra: "subnet: '203.0.113.0/24'," }, run, field('subnet', `203\\.0\\.113\\.0/24 ${BENCHMARKING}$`)],
  ['a multicast subnet', { extra: "subnet: '224.1.0.0/24'," }, run, field('subnet', `224\\.1\\.0\\.0/24 ${BENCHMARKING}$`)],
  ['a private subnet outside the range', { extra: "subnet: '10.20.0.0/16'," }, run, field('subnet', `10\\.20\\.0\\.0/16 ${BENCHMARKING}$`)],
  ['a subnet just past the range', { extra: "subnet: '198.20.0.0/24'," }, run, field('subnet', `198\\.20\\.0\\.0/24 ${BENCHMARKING}$`)],
  ['a subnet that is not one', { extra: "subnet: '198.18.0.0'," }, run, field('subnet', '"198\\.18\\.0\\.0" is not an IPv4 subnet from /16 to /29')],
  ['a subnet wider than /16', { extra: "subnet: '198.18.0.0/15'," }, run, field('subnet', '"198\\.18\\.0\\.0/15" is not an IPv4 subnet from /16 to /29 such as "198\\.18\\.7\\.0/24"$')],

  // Sysctl values: their shape, and never a shell metacharacter.
  ['a shell command in somaxconn', { server: "{ ports: [9000], sysctls: { 'net.core.somaxconn': '1; x' } }" }, run, field('server.sysctls["net.core.somaxconn"]', `"1; x" ${SHELL}; net\\.core\\.somaxconn takes a whole number from 0 to 2147483647$`)],
  ['a command substitution in a port range', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '40000 $(reboot)' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', `"40000 \\$\\(reboot\\)" ${SHELL}; net\\.ipv4\\.ip_local_port_range takes a range such as "40000 40999"$`)],
  ['a newline in a sysctl value', { client: "{ sysctls: { 'net.ipv4.tcp_fin_timeout': '30\\nreboot' } }" }, run, field('client.sysctls["net.ipv4.tcp_fin_timeout"]', `"30\\\\nreboot" ${SHELL}; net\\.ipv4\\.tcp_fin_timeout takes a whole number from 0 to 2147483647$`)],
  ['a negative somaxconn', { server: "{ ports: [9000], sysctls: { 'net.core.somaxconn': -1 } }" }, run, field('server.sysctls["net.core.somaxconn"]', '"-1" is not a whole number from 0 to 2147483647$')],
  ['a fractional sysctl number', { server: "{ ports: [9000], sysctls: { 'net.ipv4.tcp_max_syn_backlog': 1.5 } }" }, run, field('server.sysctls["net.ipv4.tcp_max_syn_backlog"]', `"1\\.5" ${SHELL}`)],
  ['tcp_syncookies out of its range', { server: "{ ports: [9000], sysctls: { 'net.ipv4.tcp_syncookies': 3 } }" }, run, field('server.sysctls["net.ipv4.tcp_syncookies"]', '"3" is not one of 0, 1, 2$')],
  ['tcp_tw_reuse given a word', { client: "{ sysctls: { 'net.ipv4.tcp_tw_reuse': 'yes' } }" }, run, field('client.sysctls["net.ipv4.tcp_tw_reuse"]', `"yes" ${SHELL}; net\\.ipv4\\.tcp_tw_reuse takes one of 0, 1, 2$`)],
  ['tcp_rmem with two numbers', { server: "{ ports: [9000], sysctls: { 'net.ipv4.tcp_rmem': '4096 131072' } }" }, run, field('server.sysctls["net.ipv4.tcp_rmem"]', '"4096 131072" is not three whole numbers of at least 1, min default max, such as "4096 131072 6291456"$')],
  ['tcp_wmem with a pipe', { server: "{ ports: [9000], sysctls: { 'net.ipv4.tcp_wmem': '4096 16384 4194304 | sh' } }" }, run, field('server.sysctls["net.ipv4.tcp_wmem"]', `"4096 16384 4194304 \\| sh" ${SHELL}; net\\.ipv4\\.tcp_wmem takes three whole numbers`)],
  ['reserved ports with a reversed range', { client: "{ sysctls: { 'net.ipv4.ip_local_reserved_ports': '40000,40020-40010' } }" }, run, field('client.sysctls["net.ipv4.ip_local_reserved_ports"]', '"40000,40020-40010" has a range with its low end above its high end \\("40020-40010"\\)$')],
  ['reserved ports past 65535', { client: "{ sysctls: { 'net.ipv4.ip_local_reserved_ports': '40000,70000' } }" }, run, field('client.sysctls["net.ipv4.ip_local_reserved_ports"]', '"40000,70000" must lie within 0-65535$')],
  ['reserved ports joined by a semicolon', { client: "{ sysctls: { 'net.ipv4.ip_local_reserved_ports': '40000;40010' } }" }, run, field('client.sysctls["net.ipv4.ip_local_reserved_ports"]', `"40000;40010" ${SHELL}; net\\.ipv4\\.ip_local_reserved_ports takes a port list such as "40100-40199,40500"$`)],
  ['a port range written with a dash', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '40000-40999' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', '"40000-40999" is not a range such as "40000 40999"$')],
  ['a sysctl given as an object', { server: "{ ports: [9000], sysctls: { 'net.core.somaxconn': { value: 4096 } } }" }, run, field('server.sysctls["net.core.somaxconn"]', 'must be a string or a number$')],
  ['sysctls given as a list', { client: "{ sysctls: ['net.core.somaxconn=4096'] }" }, run, field('client.sysctls', 'must be an object$')],
  ['a bad sysctl inside quick overrides', { cases: "[{ name: 'one', quick: { client: { sysctls: { 'net.ipv4.tcp_fin_timeout': '5 && x' } } } }]" }, run, field('cases[0].quick.client.sysctls["net.ipv4.tcp_fin_timeout"]', `"5 && x" ${SHELL};`)],

  // Server ports, once each.
  ['a server port listed twice', { server: '{ ports: [9000, 9000] }' }, run, field('server.ports[1]', '9000 is listed twice$')],
  ['a server port listed twice in a case', { cases: "[{ name: 'one', server: { ports: [9000, 9001, 9000] } }]" }, run, field('cases[0].server.ports[2]', '9000 is listed twice$')],
  ['a server port listed twice in quick overrides', { cases: "[{ name: 'one', quick: { server: { ports: [7000, 7000] } } }]" }, run, field('cases[0].quick.server.ports[1]', '7000 is listed twice$')],
  ['no server ports', { server: '{ ports: [] }' }, run, field('server.ports', 'needs at least one port$')],

  // A client program's Dockerfile, found beside the scenario file.
  ['a client program whose Dockerfile is missing', { client: "{ program: { command: ['true'], dockerfile: 'missing/Dockerfile' } }" }, run, (f) => new RegExp(`^lab: ${escape(f)}: client\\.program\\.dockerfile: "missing/Dockerfile" does not exist \\(looked for ${escape(join(dirname(f), 'missing/Dockerfile'))}, relative to the scenario file\\)$`)],
  ["a case's client program whose Dockerfile is missing", { cases: "[{ name: 'one', client: { program: { command: ['true'], dockerfile: 'Dockerfile.none' } } }]" }, run, field('cases[0].client.program.dockerfile', '"Dockerfile\\.none" does not exist')],
  ['a quick client program whose Dockerfile is missing', { cases: "[{ name: 'one', quick: { client: { program: { command: ['true'], dockerfile: '../nowhere/Dockerfile' } } } }]" }, run, field('cases[0].quick.client.program.dockerfile', '"\\.\\./nowhere/Dockerfile" does not exist')],
  ['a client program whose Dockerfile is a folder', { client: "{ program: { command: ['true'], dockerfile: '.' } }" }, run, field('client.program.dockerfile', '"\\." is a folder, not a Dockerfile')],
  ['a client program with no command', { client: '{ program: { command: [] } }' }, run, field('client.program.command', 'needs at least the program to run$')],
  ['a client program with an unknown field', { client: "{ program: { command: ['true'], image: 'alpine' } }" }, run, field('client.program.image', 'unknown field')],

  // Quick overrides are named with .quick.
  ['zero clients in quick overrides', { cases: "[{ name: 'one', quick: { clients: 0 } }]" }, run, field('cases[0].quick.clients', 'must be a whole number from 1 to 64 \\(got 0\\)$')],
  ['a bad connection count in quick overrides', { cases: "[{ name: 'one', quick: { client: { connections: 'many' } } }]" }, run, field('cases[0].quick.client.connections', "must be a number from 1 to 1000000 or 'fill' \\(got \"many\"\\)$")],
  ['a misspelt field in quick overrides', { cases: "[{ name: 'one', quick: { client: { conections: 5 } } }]" }, run, field('cases[0].quick.client.conections', 'unknown field \\(did you mean "connections"\\?\\)$')],
  ['expectations inside quick overrides', { cases: `[{ name: 'one', quick: { expect: ${PREDICT} } }]` }, run, field('cases[0].quick.expect', 'unknown field$')],

  // The name becomes a folder's.
  ['a 300-character scenario name', { name: `'${'a'.repeat(300)}'` }, run, field('name', 'is 300 characters long: at most 64 \\(the results folder is named after it\\)$')],
  ['a scenario name with capitals', { name: "'Bad-Input'" }, run, field('name', 'use lowercase letters, digits and dashes$')],
  ['a scenario name with a slash', { name: "'../escape'" }, run, field('name', 'use lowercase letters, digits and dashes$')],
  ['an empty claim', { claim: "''" }, run, field('claim', 'must be a non-empty string$')],
  ['a missing claim', { claim: 'undefined' }, run, field('claim', 'is missing$')],

  // Expectations.
  ['a predict that is a number', { expect: "[{ claim: 'x', subject: 'server', metric: 'estab', predict: 10 }]" }, run, field('expect[0].predict', 'must be a function of the theory context$')],
  ['an expectation without predict', { expect: "[{ claim: 'x', subject: 'server', metric: 'estab' }]" }, run, field('expect[0].predict', 'must be a function of the theory context$')],
  ['an unknown subject', { expect: "[{ claim: 'x', subject: 'clients', metric: 'estab', predict: () => 1 }]" }, run, field('expect[0].subject', "must be one of 'server', 'each client', 'all clients'$")],
  ['a bad errno metric', { expect: "[{ claim: 'x', subject: 'server', metric: 'errors.eaddrnotavail', predict: () => 1 }]" }, run, field('expect[0].metric', '"errors\\.eaddrnotavail" is not estab, timewait')],
  ['an unknown ping figure', { expect: "[{ claim: 'x', subject: 'server', metric: 'ping.p42', predict: () => 1 }]" }, run, field('expect[0].metric', '"ping\\.p42" is not estab')],
  ['an expectation without a claim', { expect: "[{ subject: 'server', metric: 'estab', predict: () => 1 }]" }, run, field('expect[0].claim', 'is missing$')],
  ['an expectation with an unknown field', { expect: expectation("tolerance: 5") }, run, field('expect[0].tolerance', 'unknown field$')],
  ['expectations that are not a list', { expect: "{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 1 }" }, run, field('expect', 'must be a list$')],
  ['a case with nothing to check', { expect: 'undefined' }, run, field('cases[0].expect', 'the case has no expectation to check$')],
  ["a case's bad predict", { cases: "[{ name: 'one', expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: 'ten' }] }]" }, run, field('cases[0].expect[0].predict', 'must be a function')],

  // Cases.
  ['an empty cases list', { cases: '[]' }, run, field('cases', 'needs at least one case$')],
  ['cases that are not a list', { cases: "{ name: 'one' }" }, run, field('cases', 'must be a list$')],
  ['a case without a name', { cases: '[{ clients: 1 }]' }, run, field('cases[0].name', 'is missing$')],
  ['two cases with one name, further down', { cases: "[{ name: 'a' }, { name: 'b' }, { name: 'a' }]" }, run, field('cases[2].name', '"a" is used by an earlier case$')],
  ['a negative hold', { cases: "[{ name: 'one', holdSeconds: -5 }]" }, run, field('cases[0].holdSeconds', 'must be a whole number from 0 to 3600')],

  // Client settings.
  ['a bad bind mode', { client: "{ connections: 10, bind: 'reuseport' }" }, run, field('client.bind', 'must be one of none, any, reuseaddr, nobindport$')],
  ["'fill' misspelt", { client: "{ connections: 'full' }" }, run, field('client.connections', "must be a number from 1 to 1000000 or 'fill' \\(got \"full\"\\)$")],
  ["keepAsking with 'fill'", { client: "{ connections: 'fill', keepAsking: true }" }, run, field('client.keepAsking', "needs a number of connections to attempt, not 'fill'$")],
  ['keepAsking without a count', { client: '{ keepAsking: true }' }, run, field('client.keepAsking', "needs a number of connections to attempt, not 'fill'$")],
  ['keepAsking given as a string', { client: "{ connections: 10, keepAsking: 'yes' }" }, run, field('client.keepAsking', 'must be true or false$')],
  ['holdPing of 0 seconds', { client: '{ connections: 10, holdPing: { seconds: 0, intervalMs: 1000, timeoutMs: 5000 } }' }, run, field('client.holdPing.seconds', 'must be a whole number from 1 to 3600 \\(got 0\\)$')],
  ['holdPing without a timeout', { client: '{ connections: 10, holdPing: { seconds: 5, intervalMs: 1000 } }' }, run, field('client.holdPing.timeoutMs', 'must be a whole number from 1 to 3600000 \\(got undefined\\)$')],
  ['holdPing given as true', { client: '{ connections: 10, holdPing: true }' }, run, field('client.holdPing', 'must be \\{ seconds, intervalMs, timeoutMs \\}$')],
  ['holdPing with an unknown field', { client: '{ connections: 10, holdPing: { seconds: 5, intervalMs: 1000, timeoutMs: 5000, jitter: 1 } }' }, run, field('client.holdPing.jitter', 'unknown field$')],
  ['a churn of 0 per second', { client: '{ churn: { rate: 0, seconds: 10 } }' }, run, field('client.churn.rate', 'must be a whole number from 1 to 100000 \\(got 0\\)$')],
  ['a churn given as a number', { client: '{ churn: 100 }' }, run, field('client.churn', 'must be \\{ rate: connections per second, seconds: N \\}$')],
  ['a socket port range reversed', { client: "{ connections: 10, socketPortRange: '41000 40000' }" }, run, field('client.socketPortRange', 'must be "LOW HIGH" with 1 <= LOW <= HIGH <= 65535$')],
  ['zero connects in flight', { client: '{ connections: 10, inflight: 0 }' }, run, field('client.inflight', 'must be a whole number from 1 to 65536')],
  ['too many flood processes', { client: '{ connections: 10, processes: 5000 }' }, run, field('client.processes', 'must be a whole number from 1 to 1024')],
  ['a connect timeout under 100 ms', { client: '{ connections: 10, connectTimeoutMs: 5 }' }, run, field('client.connectTimeoutMs', 'must be a whole number from 100 to 600000')],
  ['ping given as a string', { client: "{ connections: 10, ping: 'yes' }" }, run, field('client.ping', 'must be true or false$')],
  ['a client capability not allowed', { client: "{ connections: 10, capabilities: { SYS_MODULE: 'loads a congestion control module' } }" }, run, field('client.capabilities.SYS_MODULE', 'is not one the lab grants \\(NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_PTRACE\\)$')],
  ['a capability with a one-word reason', { client: "{ connections: 10, capabilities: { NET_RAW: 'because' } }" }, run, field('client.capabilities.NET_RAW', 'needs a sentence saying why the experiment needs it$')],
  ['nofile 0', { client: '{ connections: 10, nofile: 0 }' }, run, field('client.nofile', 'must be a whole number from 64 to 16777216 \\(got 0\\)$')],

  // Server settings.
  ['two addresses without NET_ADMIN', { server: '{ ports: [9000], addresses: 2 }' }, run, field('server.addresses', "2 addresses are added inside the server: declare capabilities: \\{ NET_ADMIN: '<why>' \\} beside it$")],
  ['more addresses than the server may have', { server: "{ ports: [9000], addresses: 9, capabilities: { NET_ADMIN: 'adds the extra addresses inside the server' } }" }, run, field('server.addresses', 'must be a whole number from 1 to 8')],
  ['an accept mode that does not exist', { server: "{ ports: [9000], accept: 'lazy' }" }, run, field('server.accept', "must be 'immediate', 'paused' or \\{ everyMs: N \\}$")],
  ['an accept delay of 0', { server: '{ ports: [9000], accept: { everyMs: 0 } }' }, run, field('server.accept.everyMs', 'must be a whole number from 1 to 60000 \\(got 0\\)$')],
  ['an unknown protocol', { server: "{ ports: [9000], protocol: 'https' }" }, run, field('server.protocol', "must be 'ping' or 'http'$")],
  ['zero server workers', { server: '{ ports: [9000], workers: 0 }' }, run, field('server.workers', 'must be a whole number from 1 to 256')],
  ['a negative backlog', { server: '{ ports: [9000], backlog: -1 }' }, run, field('server.backlog', 'must be a whole number from 0 to 1048576')],
  ['a missing server', { server: 'undefined' }, run, field('server', 'must be an object$')],

  // A server program of one's own.
  ['a server program whose Dockerfile is missing', { server: "{ program: { command: ['nginx'], dockerfile: 'nginx/Dockerfile', ports: [80] } }" }, run, field('server.program.dockerfile', '"nginx/Dockerfile" does not exist \\(looked for ')],
  ["a case's server program whose Dockerfile is missing", { cases: "[{ name: 'one', server: { program: { command: ['x'], dockerfile: 'none/Dockerfile' } } }]" }, run, field('cases[0].server.program.dockerfile', '"none/Dockerfile" does not exist')],
  ['a server program with no ports anywhere', { server: "{ program: { command: ['myserver'] } }" }, run, field('server.ports', 'is missing \\(the ports the server listens on; or server.program.ports\\)$')],
  ['a server program with a setting only labserver has', { server: "{ program: { command: ['myserver'], ports: [80] }, backlog: 64 }" }, run, field('server.backlog', "is a setting of the lab's server \\(labserver\\)")],
  ['a server program with a Ping round', { server: "{ program: { command: ['myserver'], ports: [80] } }", client: "{ connections: 10, ping: true }" }, run, field('client.ping', 'needs a server that answers: say what yours speaks with server.program.protocol')],
  ['a server program waited for 0 s', { server: "{ program: { command: ['myserver'], ports: [80], ready: { timeoutSeconds: 0 } } }" }, run, field('server.program.ready.timeoutSeconds', 'must be a whole number from 1 to 600 \\(got 0\\)$')],

  // The deadline.
  ['a deadline of 0', { extra: 'deadlineSeconds: 0,' }, run, field('deadlineSeconds', 'must be a whole number from 1 to 3600 \\(got 0\\)$')],
  ['a deadline given as a string', { extra: "deadlineSeconds: '60'," }, run, field('deadlineSeconds', 'must be a whole number from 1 to 3600 \\(got "60"\\)$')],
];

/** What `lab` printed and how it exited, once per row: the row's own test and the stack-trace sweep share it. */
const results = new Map<number, CliResult>();

describe('bad input is refused: one line naming file and field, exit 2, nothing created', function () {
  let dir: string;
  let blocker: Docker.Network;

  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-bad-'));
    // An existing network for the overlap case (not the lab's: it carries no lab.run label).
    blocker = await new Docker().createNetwork({ Name: 'lab-test-blocker', Internal: true, IPAM: { Config: [{ Subnet: '198.19.251.0/25' }] } });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await blocker.remove();
  });

  const fileOf = (i: number) => join(dir, `case-${i}.ts`);

  /** Writes the row's scenario file and runs `lab` on it, once. */
  function runRow(i: number): CliResult {
    const done = results.get(i);
    if (done) return done;
    const [, content, args] = rows[i]!;
    const file = fileOf(i);
    rmSync(file, { recursive: true, force: true });
    if (content === 'DIR') mkdirSync(file);
    else if (typeof content === 'string') writeFileSync(file, content);
    else if (content) writeFileSync(file, source(content));
    const result = lab(args(file), { CI: 'true' });
    results.set(i, result);
    return result;
  }

  it(`has at least 60 cases (${rows.length})`, () => expect(rows.length).to.be.at.least(60));

  it('gives every row a distinct name', () => expect(new Set(rows.map(([what]) => what)).size).to.equal(rows.length));

  rows.forEach(([what, , , message], i) => {
    it(`refuses ${what}`, async () => {
      const file = fileOf(i);
      const result = runRow(i);
      expect(result.status, result.stderr + result.stdout).to.equal(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(message(file));
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    });
  });

  it('prints no stack trace for any row', () => {
    const traced = rows.flatMap(([what], i) => {
      const result = runRow(i);
      const output = `${result.stderr}\n${result.stdout}`;
      const line = /^\s+at .*$/m.exec(output);
      return line ? [`${what}: ${line[0].trim()} (in: ${output.trim().split('\n')[0]})`] : [];
    });
    expect(traced, traced.join('\n')).to.deep.equal([]);
  });
});
