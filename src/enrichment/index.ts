/**
 * What the service knows about a source address beyond its text: autonomous system, country and
 * AWS range. Each distinct address is looked up once per process (an LRU keeps the answers);
 * rows never are.
 */
import { LRUCache } from 'lru-cache';
import { SourceIpKind, classifySourceIp } from '../domain/ip';
import { AsnDatabase, AsnInfo } from './asn';
import { AwsRange, AwsRanges } from './aws-ranges';
import { CountryDatabase } from './country';

export type { AsnInfo, AwsRange };

export interface AddressInfo {
  readonly asn: AsnInfo | null;
  readonly country: string | null;
  /** Null when no AWS_IP_RANGES_FILE is configured or the address is in none of its ranges. */
  readonly aws: AwsRange | null;
}

const NOTHING: AddressInfo = Object.freeze({ asn: null, country: null, aws: null });

export class AddressEnrichment {
  private readonly cache = new LRUCache<string, AddressInfo>({ max: 100_000 });
  /** How many lookups reached the databases (the rest were answered from the cache). */
  lookups = 0;

  constructor(
    private readonly asn: AsnDatabase | undefined,
    private readonly country: CountryDatabase | undefined,
    private readonly aws: AwsRanges | undefined,
  ) {}

  /** The databases shipped with the service, plus AWS's ranges when a file is configured. */
  static create(awsRangesFile?: string): AddressEnrichment {
    const asnDir = AsnDatabase.locate();
    const countryFile = CountryDatabase.locate();
    return new AddressEnrichment(
      asnDir ? new AsnDatabase(asnDir) : undefined,
      countryFile ? new CountryDatabase(countryFile) : undefined,
      awsRangesFile ? AwsRanges.fromFile(awsRangesFile) : undefined,
    );
  }

  /**
   * Only texts that are a public address as the service classifies them (`kind` PUBLIC_IPV4 or
   * PUBLIC_IPV6) are looked up: the databases hold stray entries for private and reserved space,
   * and other texts (a number, `010.010.010.010`, `8.8.2056`, an IPv4-mapped IPv6 address) are no
   * address the call came from, whatever a lenient parser makes of them.
   */
  info(address: string): AddressInfo {
    const kind = classifySourceIp(address);
    if (kind !== SourceIpKind.PUBLIC_IPV4 && kind !== SourceIpKind.PUBLIC_IPV6) return NOTHING;
    let found = this.cache.get(address);
    if (!found) {
      this.lookups++;
      found = { asn: this.asn?.lookup(address) ?? null, country: this.country?.lookup(address) ?? null, aws: this.aws?.lookup(address) ?? null };
      this.cache.set(address, found);
    }
    return found;
  }
}

let shared: { file: string | undefined; enrichment: AddressEnrichment } | undefined;

/** One enrichment per process and AWS ranges file (the databases are large: load them once). */
export function sharedEnrichment(awsRangesFile: string | undefined): AddressEnrichment {
  if (!shared || shared.file !== awsRangesFile) shared = { file: awsRangesFile, enrichment: AddressEnrichment.create(awsRangesFile) };
  return shared.enrichment;
}
