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
  return dir;
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
