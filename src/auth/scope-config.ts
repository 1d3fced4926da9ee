import { z } from 'zod';
import { ACCOUNT_ID, REGION } from '../domain/aws';
import type { Scope } from '../query/guards';

/** The one spelling of "every account" (or "every region") in key entries and token claims. */
export const ALL = '*';

const allOr = (item: z.ZodString, what: string) =>
  z.array(z.union([z.literal(ALL), item])).refine((list) => !list.includes(ALL) || list.length === 1, `${what}: "${ALL}" (all) stands alone`);

const scopeFields = {
  accounts: allOr(z.string().regex(ACCOUNT_ID, 'accounts: 12-digit account ids'), 'accounts').default([]),
  regions: allOr(z.string().regex(REGION, 'regions: region names like us-east-1'), 'regions').default([]),
  payloads: z.boolean().default(false),
  admin: z.boolean().default(false),
};

/**
 * Fails closed: a scope must name its accounts, or say `["*"]` for all of them, or be `admin`
 * (all accounts unless it names some). A missing or empty list never means "all".
 */
const namesAccounts = (s: { accounts: readonly string[]; admin: boolean }) => s.accounts.length > 0 || s.admin;
const NAMES_ACCOUNTS = { message: `accounts: name the accounts, or ["${ALL}"] for all accounts`, path: ['accounts'] };

/** What a key or token grants, as written in configuration or token claims. */
export const ScopeSchema = z.object(scopeFields).refine(namesAccounts, NAMES_ACCOUNTS);

export const ApiKeySchema = z
  .object({
    ...scopeFields,
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id: 1 to 64 letters, digits, ".", "_" or "-"'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: the hex SHA-256 of the key'),
  })
  .refine(namesAccounts, NAMES_ACCOUNTS);

export type ScopeEntry = z.infer<typeof ScopeSchema>;
export type ApiKeyEntry = z.infer<typeof ApiKeySchema>;

export const ApiKeysSchema = z.array(ApiKeySchema);

/** The query guards' Scope for a validated entry: `["*"]` becomes "no restriction" (an empty list). */
export function scopeOf(entry: ScopeEntry, principal: string): Scope {
  const unlessAll = (list: readonly string[]) => (list.includes(ALL) ? [] : list);
  return { accounts: unlessAll(entry.accounts), regions: unlessAll(entry.regions), readPayloads: entry.payloads, admin: entry.admin, principal };
}
