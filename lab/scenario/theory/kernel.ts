/** The kernel a case runs on, as the laws that differ between kernels compare it. */
import type { KernelRelease } from './context.ts';

/**
 * A kernel from `uname -r` and, where it says more, `uname -v`: Debian's release "6.1.0-56-amd64" is built
 * from upstream 6.1.192, which `uname -v` names ("... Debian 6.1.192-2 ..."). Without either, 0.0.0.
 */
export function kernelRelease(release: string, version = ''): KernelRelease {
  const parse = (text: string) => /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  const candidate = /Debian (\d+\.\d+)~rc(\d+)/.exec(version);
  const match = parse(candidate?.[1] ?? /Debian (\d+\.\d+\.\d+)/.exec(version)?.[1] ?? '') ?? parse(release);
  const upstream = [Number(match?.[1] ?? 0), Number(match?.[2] ?? 0), Number(match?.[3] ?? 0)] as const;
  const rc = candidate ? Number(candidate[2]) : undefined;
  return {
    release,
    upstream,
    ...(rc !== undefined && { rc }),
    name: rc !== undefined ? `${upstream[0]}.${upstream[1]}-rc${rc}` : upstream.join('.'),
    atLeast: (major, minor, patch = 0) => compareVersions(upstream, [major, minor, patch]) >= 0,
    series: (major, minor) => upstream[0] === major && upstream[1] === minor,
  };
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
