/**
 * AWS-owned address ranges from AWS's published `ip-ranges.json` (the operator points
 * AWS_IP_RANGES_FILE at a copy). The most specific prefix containing an address names its
 * service and region; among equally specific prefixes a named service wins over the umbrella
 * `AMAZON` entry.
 */
import * as fs from 'node:fs';
import * as ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

export interface AwsRange {
  readonly prefix: string;
  readonly service: string;
  readonly region: string;
}

interface Entry extends AwsRange {
  readonly range: [IPv4 | IPv6, number];
}

interface IpRangesFile {
  prefixes?: { ip_prefix?: string; region?: string; service?: string }[];
  ipv6_prefixes?: { ipv6_prefix?: string; region?: string; service?: string }[];
}

export class AwsRanges {
  private readonly entries: Entry[];

  constructor(json: IpRangesFile) {
    const list = [
      ...(json.prefixes ?? []).map((p) => ({ prefix: p.ip_prefix, region: p.region, service: p.service })),
      ...(json.ipv6_prefixes ?? []).map((p) => ({ prefix: p.ipv6_prefix, region: p.region, service: p.service })),
    ];
    this.entries = [];
    for (const p of list) {
      if (!p.prefix || !p.service || !p.region) continue;
      try {
        this.entries.push({ prefix: p.prefix, service: p.service, region: p.region, range: ipaddr.parseCIDR(p.prefix) });
      } catch {
        // A malformed prefix is skipped; the rest of the file still answers.
      }
    }
    // Most specific first; at equal length a named service before AMAZON.
    this.entries.sort((a, b) => b.range[1] - a.range[1] || Number(a.service === 'AMAZON') - Number(b.service === 'AMAZON'));
  }

  static fromFile(file: string): AwsRanges {
    return new AwsRanges(JSON.parse(fs.readFileSync(file, 'utf8')) as IpRangesFile);
  }

  get size(): number {
    return this.entries.length;
  }

  lookup(address: string): AwsRange | null {
    let ip: IPv4 | IPv6;
    try {
      ip = ipaddr.parse(address);
    } catch {
      return null;
    }
    for (const e of this.entries) {
      if (e.range[0].kind() === ip.kind() && ip.match(e.range)) return { prefix: e.prefix, service: e.service, region: e.region };
    }
    return null;
  }
}
