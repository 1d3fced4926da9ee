/**
 * `npm run key -- --id portal --accounts 111122223333,... [--regions us-east-1,...] [--payloads] [--admin]`:
 * `--accounts '*'` grants every account (a key naming no accounts is refused unless `--admin`). Makes a new random API key, prints it once, and prints the API_KEYS entry (its SHA-256 and scope)
 * to add to the configuration. The key itself is never stored.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { hashKey } from './authenticate';
import { ApiKeySchema } from './scope-config';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    accounts: { type: 'string', default: '' },
    regions: { type: 'string', default: '' },
    payloads: { type: 'boolean', default: false },
    admin: { type: 'boolean', default: false },
  },
});
const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const key = `tql_${randomBytes(32).toString('base64url')}`;
const entry = ApiKeySchema.safeParse({
  id: values.id,
  sha256: hashKey(key),
  accounts: list(values.accounts),
  regions: list(values.regions),
  payloads: values.payloads,
  admin: values.admin,
});
if (!entry.success) {
  process.stderr.write(`${entry.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
  process.exit(2);
}
process.stdout.write(`API key (give it to the caller; it is not stored anywhere):\n  ${key}\n\nAPI_KEYS entry:\n  ${JSON.stringify(entry.data)}\n`);
