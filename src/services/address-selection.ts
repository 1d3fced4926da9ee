/**
 * Resolution of an AS number or country selection of a filter: whether what the offline
 * databases say of a source address satisfies it.
 */
import { AddressInfo } from '../enrichment';
import { SourceSelection } from '../query/filter';

/** Whether what the databases say of an address satisfies a selection (every list given). */
export const matchesSelection = (info: AddressInfo, s: SourceSelection): boolean =>
  (s.asns.length === 0 || (info.asn !== null && s.asns.includes(info.asn.number))) && (s.countries.length === 0 || (info.country !== null && s.countries.includes(info.country)));
