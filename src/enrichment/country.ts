/**
 * Country of an address, from the offline geo-whois-asn-country database (CC0) shipped in the
 * `@ip-location-db/geo-whois-asn-country-mmdb` npm package, read with mmdb-lib.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Reader } from 'mmdb-lib';

/** The database's records: `{ country_code }` (mmdb-lib types its records loosely here). */
type CountryRecord = Record<string, unknown> & { country_code?: string };

export class CountryDatabase {
  private reader?: Reader<never>;

  constructor(private readonly file: string) {}

  static locate(): string | undefined {
    try {
      return path.join(path.dirname(require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json')), 'geo-whois-asn-country.mmdb');
    } catch {
      return undefined;
    }
  }

  /** ISO 3166-1 alpha-2 code, or null when the address is not in the database. */
  lookup(address: string): string | null {
    this.reader ??= new Reader<never>(fs.readFileSync(this.file));
    try {
      const r = this.reader.get(address) as CountryRecord | null;
      return typeof r?.country_code === 'string' ? r.country_code : null;
    } catch {
      return null;
    }
  }
}
