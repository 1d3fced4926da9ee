import * as path from 'node:path';
import { emitSchema } from './schema';

/** `npm run schema`: writes schema/schema.graphql, which is committed and diffed in review. */
emitSchema(path.resolve(__dirname, '../../schema/schema.graphql')).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
