/**
 * What a proxy's error log says about its upstream connects, counted per errno. nginx 1.22 logs each failed
 * connect() at [crit] (EADDRNOTAVAIL is not among the errors it logs at [error]):
 *   connect() to 198.18.0.10:8080 failed (99: Cannot assign requested address) while connecting to upstream
 * (older and newer releases word it "connect() failed (99: ...)"). HAProxy writes to its stderr
 *   Connect() failed for backend backends: no free ports.
 * for EADDRNOTAVAIL and EAGAIN alike, "local address already in use." for EADDRINUSE, and nothing for a
 * refused or timed-out connect (its client gets 503 either way).
 */
import { PROXY_ERROR_LOG, type ProxyKind } from './config.ts';

/** Linux's numbers for the errnos a proxy's upstream connect meets. */
const ERRNO_NAMES: Record<number, string> = {
  24: 'EMFILE',
  23: 'ENFILE',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH',
  104: 'ECONNRESET',
  105: 'ENOBUFS',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
};

const HAPROXY_REASONS: Record<string, string> = { 'no free ports': 'EADDRNOTAVAIL', 'local address already in use': 'EADDRINUSE' };

/**
 * The shell command, run inside the proxy host, that prints one line per upstream connect error: the errno's
 * number (nginx) or HAProxy's reason, nothing else (the log itself may be megabytes: it stays in the host).
 */
export function upstreamErrorsCommand(kind: ProxyKind): string[] {
  const pattern =
    kind === 'nginx'
      ? 's/.*connect() \\(to [^ ]* \\)\\{0,1\\}failed (\\([0-9]*\\): .*while connecting to upstream.*/\\2/p'
      : 's/^Connect() failed for backend [^:]*: \\(.*\\)\\.$/\\1/p';
  return ['sh', '-c', `sed -n '${pattern}' ${PROXY_ERROR_LOG} | sort | uniq -c`];
}

/** `uniq -c`'s output of upstreamErrorsCommand, as counts per errno name ("E99" for an errno not named here). */
export function parseUpstreamErrors(kind: ProxyKind, output: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    const what = m[2]!;
    const name = kind === 'nginx' ? (ERRNO_NAMES[Number(what)] ?? `E${what}`) : (HAPROXY_REASONS[what] ?? what);
    counts[name] = (counts[name] ?? 0) + Number(m[1]);
  }
  return counts;
}
