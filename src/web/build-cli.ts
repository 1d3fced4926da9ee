/**
 * `npm run build:web`: builds the browser bundles into dist/public/ (what the Docker image
 * serves) and prints each file's size, raw and gzipped.
 */
import { BundleName, PREBUILT_DIR, buildBundle, writeAssets } from './assets';
import * as path from 'node:path';

async function main() {
  const out = process.argv[2] ? path.resolve(process.argv[2]) : PREBUILT_DIR;
  for (const name of ['components', 'explorer'] as BundleName[]) {
    const set = await buildBundle(name);
    writeAssets(set, path.join(out, name));
    for (const a of set.files.values()) {
      console.log(`${a.url.padEnd(48)} ${(a.body.length / 1024).toFixed(1).padStart(8)} KB ${(a.gzip.length / 1024).toFixed(1).padStart(8)} KB gzip`);
    }
  }
  console.log(`written to ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
