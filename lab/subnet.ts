/** Subnet arithmetic for the lab's networks: IPv4, and the IPv6 subnet a run's IPv4 subnet gives it. */

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

/*
 * A run's IPv6 subnet is a /64 of the ULA range (RFC 4193, fd00::/8) under fd00:1ab ("lab"), named after its
 * IPv4 subnet's base: two live runs, whose IPv4 subnets never overlap, never share one.
 */
/** The run's IPv6 subnet, from its IPv4 subnet: 198.18.7.0/24 -> fd00:1ab:c612:700::/64. */
export function ipv6SubnetFor(cidr: string): string {
  return `${formatAddress6(ipv6Groups(cidr, 0))}/64`;
}

/** The n-th address of the run's IPv6 subnet, as IPv4's n-th of its subnet: fd00:1ab:c612:700::b for .11. */
export function hostAddress6(cidr: string, n: number): string {
  return formatAddress6(ipv6Groups(cidr, n));
}

function ipv6Groups(cidr: string, n: number): number[] {
  const { base } = parseSubnet(cidr);
  return [0xfd00, 0x1ab, Math.floor(base / 65536), base % 65536, 0, 0, Math.floor(n / 65536), n % 65536];
}

/** Eight 16-bit groups as RFC 5952 writes them: lowercase, the longest run of two or more zero groups as "::". */
export function formatAddress6(groups: readonly number[]): string {
  let best = { at: -1, length: 1 };
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

/** Whether text is an IPv6 address (it holds a colon), as the lab writes its hosts' addresses. */
export function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** An endpoint as the lab's programs take it: "198.18.7.2:80", "[fd00:1ab:c612:700::2]:80". */
export function endpoint(address: string, port: number): string {
  return isIpv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
