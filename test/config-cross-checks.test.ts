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

test('an Athena result reuse adds its age to the delivery lag: a reused result of an ended window is closed only once late deliveries were in it', () => {
  const athena = {
    ENGINE: 'athena',
    API_KEYS: JSON.stringify(TEST_KEYS),
    LOG_LEVEL: 'silent',
    ATHENA_REGION: 'eu-west-1',
    ATHENA_WORKGROUP: 'trailql',
    ATHENA_OUTPUT_LOCATION: 's3://results-bucket/athena/',
    TRAIL_BUCKET: 'my-trail-bucket',
    TRAIL_ACCOUNTS: '123456789012',
    TRAIL_REGIONS: 'eu-west-1',
    TRAIL_START_DATE: '2024/01/01',
  };
  expect(loadConfig({ ...athena, ATHENA_RESULT_REUSE_MINUTES: '2880' }).cache.deliveryLagMinutes).toBe(1440 + 2880);
  expect(loadConfig({ ...athena, ATHENA_RESULT_REUSE_MINUTES: '120', CACHE_DELIVERY_LAG_MINUTES: '1500' }).cache.deliveryLagMinutes).toBe(1620);
  expect(loadConfig({ ...athena }).cache.deliveryLagMinutes).toBe(1440);
  // DuckDB keys answers on the files themselves; no reuse to add.
  expect(loadConfig(BASE).cache.deliveryLagMinutes).toBe(1440);
});

test('the delivery lag is at least the delivery margin: files of a window land until its margin has passed', () => {
  // Unset, it follows the margin.
  expect(loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '3' }).cache.deliveryLagMinutes).toBe(3 * 1440);
  expect(loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '1' }).cache.deliveryLagMinutes).toBe(1440);
  // Any margin has a lag that starts.
  expect(loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '30', CACHE_DELIVERY_LAG_MINUTES: String(30 * 1440) }).cache.deliveryLagMinutes).toBe(30 * 1440);
  expect(loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '3', CACHE_DELIVERY_LAG_MINUTES: '5000' }).cache.deliveryLagMinutes).toBe(5000);
  expect(() => loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '3', CACHE_DELIVERY_LAG_MINUTES: '1440' })).toThrow(/CACHE_DELIVERY_LAG_MINUTES: at least DELIVERY_MARGIN_DAYS \(3\) days in minutes \(4320\)/);
  expect(() => loadConfig({ ...BASE, CACHE_DELIVERY_LAG_MINUTES: '60' })).toThrow(/CACHE_DELIVERY_LAG_MINUTES/);
});

test('the delivery margin is a day at least: a call of a day\'s last minutes is filed in the next day\'s folder', () => {
  expect(() => loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '0' })).toThrow(/DELIVERY_MARGIN_DAYS/);
  expect(loadConfig({ ...BASE, DELIVERY_MARGIN_DAYS: '1' }).window.deliveryMarginDays).toBe(1);
  expect(loadConfig(BASE).window.deliveryMarginDays).toBe(1);
});
