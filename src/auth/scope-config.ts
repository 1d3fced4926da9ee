import { z } from 'zod';
import { ACCOUNT_ID, REGION } from '../domain/aws';

/** What a key or token grants, as written in configuration or token claims. */
export const ScopeSchema = z.object({
  accounts: z.array(z.string().regex(ACCOUNT_ID, 'accounts: 12-digit account ids')).default([]),
  regions: z.array(z.string().regex(REGION, 'regions: region names like us-east-1')).default([]),
  payloads: z.boolean().default(false),
  admin: z.boolean().default(false),
});

export const ApiKeySchema = ScopeSchema.extend({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'id: 1 to 64 letters, digits, ".", "_" or "-"'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256: the hex SHA-256 of the key'),
});

export type ApiKeyEntry = z.infer<typeof ApiKeySchema>;

export const ApiKeysSchema = z.array(ApiKeySchema);
