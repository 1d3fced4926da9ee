/**
 * One generated sample trail and one server over it for a whole test file: made in beforeAll,
 * closed and removed in afterAll. The clock is fixed at SAMPLE_END.
 */
import * as fs from 'node:fs';
import { TestServer, startServer } from './server';
import { SAMPLE_END, sampleTrail } from './trails';

export interface SampleServer {
  /** The trail folder (holding `AWSLogs/`). */
  dir: string;
  server: TestServer;
}

export function useSampleServer(
  days: number,
  options: Parameters<typeof sampleTrail>[1] = {},
  setup: { env?: Record<string, string>; prepare?: (dir: string) => void | Promise<void> } = {},
): SampleServer {
  const ctx = {} as SampleServer;
  beforeAll(async () => {
    ctx.dir = await sampleTrail(days, options);
    await setup.prepare?.(ctx.dir);
    ctx.server = await startServer(ctx.dir, setup.env ?? {}, { now: () => SAMPLE_END });
  });
  afterAll(async () => {
    await ctx.server?.close();
    if (ctx.dir) fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
