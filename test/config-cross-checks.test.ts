/**
 * Settings that are each valid but contradict one another are refused at start, naming the
 * setting, rather than making every request of some kind fail later.
 */
import * as os from 'node:os';
import { ConfigError, loadConfig } from '../src/config';
import { TEST_KEYS } from './support/server';

const BASE = { TRAIL_DIR: os.tmpdir(), API_KEYS: JSON.stringify(TEST_KEYS), LOG_LEVEL: 'silent' };

test('an insights baseline longer than the longest window is refused', () => {
  expect(() => loadConfig({ ...BASE, MAX_WINDOW_DAYS: '31', INSIGHTS_BASELINE_DAYS: '60' })).toThrow(ConfigError);
  expect(() => loadConfig({ ...BASE, MAX_WINDOW_DAYS: '31', INSIGHTS_BASELINE_DAYS: '60' })).toThrow(/INSIGHTS_BASELINE_DAYS: must not exceed MAX_WINDOW_DAYS/);
  expect(loadConfig({ ...BASE, MAX_WINDOW_DAYS: '31', INSIGHTS_BASELINE_DAYS: '31' }).insights.baselineDays).toBe(31);
});
