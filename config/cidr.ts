export interface Ipv4Cidr {
  network: number;
  prefix: number;
  mask: number;
}

/** Parses `a.b.c.d/n`; the address must be the network address, as AWS requires. */
export function parseIpv4Cidr(value: string): Ipv4Cidr | { error: string } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return { error: `"${value}" is not an IPv4 CIDR such as 203.0.113.0/24` };
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    return { error: `"${value}" is not an IPv4 CIDR: octets go up to 255 and the prefix up to /32` };
  }
  const address = octets.reduce((acc, octet) => ((acc << 8) | octet) >>> 0, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (address & mask) >>> 0;
  if (network !== address) {
    return { error: `"${value}" has host bits set; did you mean ${formatIpv4(network)}/${prefix}?` };
  }
  return { network, prefix, mask };
}

function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join(".");
}
