/**
 * Sysctls the lab may set per container. They must live in the container's network namespace: Docker
 * refuses host-wide ones (fs.file-max), and a name the kernel does not know fails only at container start,
 * so both are checked before anything is created. So is each value's shape: a value the kernel refuses
 * fails only once the run's network exists, and a value is written into /proc by a shell on some runtimes.
 */
import { portRangeProblem } from './port-range.ts';

/** What a sysctl's value looks like: whole numbers within bounds, a port range, three numbers, a port list. */
type Shape = { kind: 'integer'; min: number; max: number } | { kind: 'triple'; min: number } | { kind: 'port range' } | { kind: 'port list' };

const INT_MAX = 2 ** 31 - 1;
const count = (min = 0, max = INT_MAX): Shape => ({ kind: 'integer', min, max });
const oneOf = (max: number): Shape => ({ kind: 'integer', min: 0, max });

/** The per-namespace sysctls the lab knows, with the shape of value each takes (Documentation/networking/ip-sysctl.rst). */
const SHAPES: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  ['net.core.somaxconn', count()],
  ['net.ipv4.ip_local_port_range', { kind: 'port range' }],
  ['net.ipv4.ip_local_reserved_ports', { kind: 'port list' }],
  ['net.ipv4.ip_autobind_reuse', oneOf(1)],
  ['net.ipv4.tcp_tw_reuse', oneOf(2)],
  ['net.ipv4.tcp_abort_on_overflow', oneOf(1)],
  ['net.ipv4.tcp_max_syn_backlog', count()],
  ['net.ipv4.tcp_synack_retries', count(0, 255)],
  ['net.ipv4.tcp_syn_retries', count(1, 127)],
  ['net.ipv4.tcp_syncookies', oneOf(2)],
  ['net.ipv4.tcp_max_tw_buckets', count()],
  ['net.ipv4.tcp_fin_timeout', count()],
  ['net.ipv4.tcp_rmem', { kind: 'triple', min: 1 }],
  ['net.ipv4.tcp_wmem', { kind: 'triple', min: 1 }],
  ['net.ipv4.tcp_keepalive_time', count(1)],
  ['net.ipv4.tcp_keepalive_intvl', count(1)],
  ['net.ipv4.tcp_keepalive_probes', count(1)],
  ['net.ipv4.tcp_timestamps', oneOf(2)],
  ['net.ipv4.tcp_orphan_retries', count(0, 255)],
  ['net.ipv4.tcp_retries2', count(0, 255)],
  // Whether a socket bound to [::] covers IPv6 only (1) or IPv4 too (0, the default): which ports bind() meets.
  ['net.ipv6.bindv6only', oneOf(1)],
]);

export const NAMESPACED_SYSCTLS: ReadonlySet<string> = new Set(SHAPES.keys());

/** Why a sysctl cannot be set per container, or undefined when it can. */
export function sysctlProblem(name: string): string | undefined {
  if (NAMESPACED_SYSCTLS.has(name)) return undefined;
  if (/^(fs|vm|kernel)\./.test(name) || /^net\.(netfilter|ipv4\.tcp_mem|core\.(rmem|wmem)_max)/.test(name)) {
    return 'is host-wide: Docker cannot set it per container';
  }
  return `is not a per-network-namespace sysctl the lab knows (known: ${[...NAMESPACED_SYSCTLS].map((s) => s.replace(/^net\.(ipv4|core)\./, '')).join(', ')})`;
}

/** What no sysctl value the lab sets needs: anything but digits, blanks, commas and dashes (so no shell metacharacter). */
const ALLOWED_CHARACTERS = /^[0-9 \t,-]*$/;

/** What a value of this shape looks like, for messages. */
function expected(shape: Shape | undefined): string {
  switch (shape?.kind) {
    case 'integer':
      return shape.max <= 2
        ? `one of ${Array.from({ length: shape.max - shape.min + 1 }, (_, i) => shape.min + i).join(', ')}`
        : `a whole number from ${shape.min} to ${shape.max}`;
    case 'triple':
      return `three whole numbers of at least ${shape.min}, min default max, such as "4096 131072 6291456"`;
    case 'port range':
      return 'a range such as "40000 40999"';
    case 'port list':
      return 'a port list such as "40100-40199,40500"';
    default:
      return 'digits';
  }
}

/** Why this value cannot be given to this sysctl, or undefined when it can; the reason says the shape expected. */
export function sysctlValueProblem(name: string, value: string | number): string | undefined {
  const text = String(value);
  const shape = SHAPES.get(name);
  if (!ALLOWED_CHARACTERS.test(text)) {
    return `${JSON.stringify(text)} may hold only digits, spaces, tabs, commas and dashes; ${name} takes ${expected(shape)}`;
  }
  switch (shape?.kind) {
    case 'integer': {
      const n = /^\s*(\d+)\s*$/.exec(text);
      if (!n || Number(n[1]) < shape.min || Number(n[1]) > shape.max) return `"${text}" is not ${expected(shape)}`;
      return undefined;
    }
    case 'triple': {
      const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(text);
      if (!m || m.slice(1).some((n) => Number(n) < shape.min || Number(n) > INT_MAX)) return `"${text}" is not ${expected(shape)}`;
      return undefined;
    }
    case 'port range':
      return portRangeProblem(text);
    case 'port list':
      return portListProblem(text);
    default:
      return undefined;
  }
}

/** ip_local_reserved_ports: comma-separated ports and LOW-HIGH ranges within 0-65535; empty reserves none. */
function portListProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(item);
    if (!m) return `"${text}" is not ${expected({ kind: 'port list' })}`;
    const [low, high] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (high > 65535) return `"${text}" must lie within 0-65535`;
    if (low > high) return `"${text}" has a range with its low end above its high end ("${item.trim()}")`;
  }
  return undefined;
}
