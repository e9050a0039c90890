/** loadConfig's numeric settings: an empty value (`NAME=` in a .env file) is its default, never a silent 0. */
import os from 'node:os';
import { ConfigError, DEFAULT_LEDGER_CACHE_PATIENTS, DEFAULT_SUBSCRIPTIONS_PER_CONNECTION, loadConfig } from '../src/config';
import { TEST_SECRET } from './harness';

const base = { NODE_ENV: 'test', AUTH_JWT_SECRET: TEST_SECRET, DATA_DIR: os.tmpdir() };

test('an empty or blank numeric setting is unset: its default applies', () => {
  for (const empty of ['', '  ']) {
    const config = loadConfig({
      ...base,
      PORT: empty,
      LEDGER_CACHE_PATIENTS: empty,
      MUTATION_RATE_LIMIT: empty,
      QUERY_RATE_LIMIT: empty,
      SUBSCRIPTION_RATE_LIMIT: empty,
      MAX_CONNECTIONS_PER_CALLER: empty,
      MAX_SUBSCRIPTIONS_PER_CONNECTION: empty,
    });
    expect(config.port).toBe(4000);
    expect(config.ledger.cachePatients).toBe(DEFAULT_LEDGER_CACHE_PATIENTS);
    expect(config.callerLimits).toEqual({
      mutationsPerSecond: 100,
      queriesPerSecond: 20,
      subscriptionsPerSecond: 20,
      connections: 20,
      subscriptionsPerConnection: DEFAULT_SUBSCRIPTIONS_PER_CONNECTION,
    });
    expect(loadConfig(base)).toMatchObject({ port: config.port, ledger: config.ledger, callerLimits: config.callerLimits });
  }
});

test('0 is still an explicit setting: no cached patients, a limit turned off, any free port', () => {
  const config = loadConfig({ ...base, PORT: '0', LEDGER_CACHE_PATIENTS: '0', MUTATION_RATE_LIMIT: '0' });
  expect(config.port).toBe(0);
  expect(config.ledger.cachePatients).toBe(0);
  expect(config.callerLimits.mutationsPerSecond).toBe(0);
});

test('a value that is not a number is refused', () => {
  expect(() => loadConfig({ ...base, LEDGER_CACHE_PATIENTS: 'many' })).toThrow(ConfigError);
  expect(() => loadConfig({ ...base, LEDGER_CACHE_PATIENTS: '1.5' })).toThrow(/LEDGER_CACHE_PATIENTS/);
  expect(() => loadConfig({ ...base, PORT: 'x' })).toThrow(/PORT/);
  expect(() => loadConfig({ ...base, QUERY_RATE_LIMIT: '-1' })).toThrow(/QUERY_RATE_LIMIT/);
});
