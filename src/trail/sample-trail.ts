import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../logger';
import { AWS_LOGS } from './layout';
import { generateSampleTrail } from './sample';

const MARKER = '.trailql-sample.json';
/** A sample older than this is made again at start, so the default window shows recent calls. */
const STALE_MS = 6 * 3_600_000;

interface Marker {
  end: string;
  days: number;
  seed: number;
  /** false while it is being made: a start stopped then left a folder that is still ours to replace. */
  complete?: boolean;
}

/**
 * Makes sure `dir` holds a sample trail ending recently; generates one (ending now) when it is
 * missing, stale, made with other settings or left half made by a start that was stopped. Only
 * folders this function made (with its marker, written before the first file) are ever replaced.
 */
export async function ensureSampleTrail(dir: string, days: number, seed: number, logger: Logger, now = new Date()): Promise<void> {
  let marker: Marker | undefined;
  try {
    marker = JSON.parse(await fs.readFile(path.join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    marker = undefined;
  }
  const fresh = marker && marker.complete !== false && marker.days === days && marker.seed === seed && now.getTime() - new Date(marker.end).getTime() < STALE_MS;
  if (fresh) {
    logger.info({ dir, end: marker?.end }, 'using the sample trail');
    return;
  }
  if (marker) await fs.rm(path.join(dir, AWS_LOGS), { recursive: true, force: true });
  else {
    // A marker being written when a start was stopped is no one else's file.
    const existing = (await fs.readdir(dir).catch(() => [] as string[])).filter((name) => !name.startsWith(`${MARKER}.`));
    if (existing.length) throw new Error(`${dir} is not empty and was not made as a sample trail; set SAMPLE_DIR to another folder`);
  }
  await fs.mkdir(dir, { recursive: true });
  const started = Date.now();
  const end = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const made: Marker = { end: end.toISOString(), days, seed };
  await writeMarker(dir, { ...made, complete: false });
  const result = await generateSampleTrail({ outDir: dir, days, end, seed });
  await writeMarker(dir, made);
  logger.info({ dir, files: result.files, records: result.records, ms: Date.now() - started }, 'generated the sample trail');
}

/** Writes the marker whole or not at all (a start stopped mid-write must not leave an empty one). */
async function writeMarker(dir: string, marker: Marker): Promise<void> {
  const partial = path.join(dir, `${MARKER}.${process.pid}.partial`);
  await fs.writeFile(partial, JSON.stringify(marker));
  await fs.rename(partial, path.join(dir, MARKER));
}
