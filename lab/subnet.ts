/** IPv4 subnet arithmetic for the lab's networks. */

export function parseSubnet(cidr: string): { base: number; prefix: number } {
  const [address, prefixText] = cidr.split('/');
  const octets = (address ?? '').split('.').map(Number);
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  return { base: base - (base % size), prefix };
}

export function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The n-th address of a subnet (1 is the gateway Docker takes). */
export function hostAddress(cidr: string, n: number): string {
  const { base } = parseSubnet(cidr);
  return formatAddress(base + n);
}

/** The first client's host number (.11): .1 is the gateway, the server's addresses start at .2. */
export const FIRST_CLIENT = 11;

/** Clients that fit: they take .11 up to the last address below broadcast (.1 gateway, .2 server). */
export function subnetCapacity(cidr: string): number {
  const { prefix } = parseSubnet(cidr);
  return Math.max(0, 2 ** (32 - prefix) - FIRST_CLIENT - 1);
}

export function overlaps(a: string, b: string): boolean {
  const x = parseSubnet(a);
  const y = parseSubnet(b);
  const xEnd = x.base + 2 ** (32 - x.prefix);
  const yEnd = y.base + 2 ** (32 - y.prefix);
  return x.base < yEnd && y.base < xEnd;
}

/** The /24s of the benchmarking range 198.18.0.0/15 (RFC 2544): 512 candidate subnets for runs. */
export function* benchmarkingSubnets(): Generator<string> {
  for (let i = 0; i < 512; i++) yield `198.${18 + (i >> 8)}.${i & 255}.0/24`;
}
