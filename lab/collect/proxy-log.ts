/** A reverse proxy's upstream connect errors, counted per errno from its error log inside its host (lab/proxy/log.ts). */
import { parseUpstreamErrors, upstreamErrorsCommand } from '../proxy/log.ts';
import type { ProxyKind } from '../proxy/config.ts';
import type { Host } from '../runtime/runtime.ts';

export async function readProxyErrors(host: Host, kind: ProxyKind): Promise<Record<string, number>> {
  const result = await host.exec(upstreamErrorsCommand(kind));
  if (result.exitCode !== 0) throw new Error(`reading the proxy's error log on ${host.plan.name} failed: ${result.stderr.trim()}`);
  return parseUpstreamErrors(kind, result.stdout);
}
