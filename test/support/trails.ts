import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSampleTrail } from '../../src/trail/sample';

export const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/real-cloudtrail');

export function tempDir(prefix = 'trailql-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fixed end time so every run generates the same sample trail. */
export const SAMPLE_END = new Date('2026-03-15T12:00:00Z');

export async function sampleTrail(days: number, options: { iotEventsPerDay?: number; otherEventsPerIotEvent?: number; deliveryMinutes?: number; end?: Date } = {}): Promise<string> {
  const dir = tempDir();
  await generateSampleTrail({ outDir: dir, days, end: options.end ?? SAMPLE_END, seed: 7, ...options });
  settleFolders(dir);
  return dir;
}

/**
 * Dates `ageMs` back every folder under `dir` (itself included) that changed within the last
 * `ageMs`, as if its files had landed a while ago: no answer is kept over a folder that changed
 * within the last seconds (FOLDER_SETTLE_MS). Folders older than that keep their times, so what
 * did not change keeps its fingerprint.
 */
export function settleFolders(dir: string, ageMs = 10_000): void {
  const now = Date.now();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    const { mtimeMs, atime } = fs.statSync(d);
    if (now - mtimeMs < ageMs) fs.utimesSync(d, atime, new Date(mtimeMs - ageMs));
  };
  walk(dir);
}

/** One generated sample trail for a whole test file: made in beforeAll, removed in afterAll. */
export function useSampleTrail(days: number, options: Parameters<typeof sampleTrail>[1] = {}): { dir: string } {
  const trail = { dir: '' };
  beforeAll(async () => {
    trail.dir = await sampleTrail(days, options);
  });
  afterAll(() => {
    if (trail.dir) fs.rmSync(trail.dir, { recursive: true, force: true });
  });
  return trail;
}
