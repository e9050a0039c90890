import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { parseDurationSeconds } from './auth/duration';

/** Everything the server reads from the environment (docs/design.md §5), typed and checked once at start. */
export interface Config {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  isProduction: boolean;
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  redisUrl: string | null;
  auth: {
    /** HS256 secret. */
    jwtSecret: string | null;
    /** The secret was generated into DATA_DIR (development without AUTH_JWT_SECRET), so the demo token may be printed. */
    secretGenerated: boolean;
    /** Tokens whose `exp` is further ahead than this are refused (AUTH_MAX_TOKEN_LIFETIME). */
    maxTokenLifetimeSeconds: number;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
  };
  /** Seed the demo practice on an empty database (development default). */
  seedDemo: boolean;
  /** Serve the front-desk page at `/` (DASHBOARD=on|off; development default on; README: the front-desk page). */
  dashboard: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Per caller (practice + user), per instance; each 0 turns that limit off. */
  callerLimits: {
    /** Mutation fields per second (bursts of five seconds' worth). */
    mutationsPerSecond: number;
    /** Queries (operations, over HTTP or WebSocket) per second, bursts of five seconds' worth. */
    queriesPerSecond: number;
    /** Subscriptions started per second, bursts of five seconds' worth. */
    subscriptionsPerSecond: number;
    /** WebSocket connections open at once. */
    connections: number;
    /** Subscriptions open at once on one WebSocket connection. */
    subscriptionsPerConnection: number;
  };
  /** The write path (docs/operations.md §1). */
  ledger: {
    /** Patients whose ledger state is kept in memory (LEDGER_CACHE_PATIENTS); 0 rebuilds it for every mutation. */
    cachePatients: number;
    /** Compare every mutation's in-memory state with a rebuild from the rows, and refuse to commit on a difference (LEDGER_VERIFY). */
    verify: boolean;
  };
}

export class ConfigError extends Error {}

/**
 * Subscriptions one WebSocket connection may hold unless MAX_SUBSCRIPTIONS_PER_CONNECTION says otherwise: a dashboard
 * of 50 patients with one subscription each, with room to spare, and no more than one burst of the default
 * subscription start rate (20/s for 5 s), so a full connection opens at once. Each costs about 29 KiB.
 */
export const DEFAULT_SUBSCRIPTIONS_PER_CONNECTION = 100;

/**
 * Patients whose ledger state stays in memory unless LEDGER_CACHE_PATIENTS says otherwise: a busy practice's day of
 * patients. A patient with 5,000 ledger rows takes about 1 MiB; most take a few KiB.
 */
export const DEFAULT_LEDGER_CACHE_PATIENTS = 1000;

/** The longest token lifetime accepted unless AUTH_MAX_TOKEN_LIFETIME says otherwise. */
export const DEFAULT_MAX_TOKEN_LIFETIME = '24h';

/** Reads `.env` (if present) into `env` without overriding what is already set. */
export function loadDotEnv(file: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const value = match[2].replace(/^(['"])(.*)\1$/, '$2');
    if (env[match[1]] === undefined) env[match[1]] = value;
  }
}

function parseDatabase(url: string | undefined, dataDir: string): Config['database'] {
  if (!url) return { kind: 'sqlite', path: path.join(dataDir, 'ledger.sqlite') };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new ConfigError('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/ledger.sqlite');
    return { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
}

/** In development the HS256 secret is generated once and kept under ./data so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'dev-jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function dataDirectory(env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, env.DATA_DIR ?? 'data');
}

/** The database alone, for commands that need nothing else (npm run migrate): no secret, no server settings. */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config['database'] {
  return parseDatabase(env.DATABASE_URL, dataDirectory(env, cwd));
}

/** A numeric setting's text, or undefined when it is unset or empty (`NAME=` in a .env file means its default, never 0). */
function numberSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function parseDashboard(value: string | undefined, nodeEnv: Config['nodeEnv']): boolean {
  if (value === undefined || value === '') return nodeEnv === 'development';
  if (value === 'on' || value === 'off') return value === 'on';
  throw new ConfigError('DASHBOARD must be on or off');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const nodeEnv = (env.NODE_ENV ?? 'development') as Config['nodeEnv'];
  if (!['development', 'production', 'test'].includes(nodeEnv)) throw new ConfigError('NODE_ENV must be development, production or test');
  const isProduction = nodeEnv === 'production';
  const dataDir = dataDirectory(env, cwd);
  const port = Number(numberSetting(env, 'PORT') ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT must be a whole number from 0 to 65535');
  const jwksUrl = env.AUTH_JWKS_URL || null;
  let jwtSecret = env.AUTH_JWT_SECRET || null;
  if (!jwtSecret && !jwksUrl) {
    if (isProduction) throw new ConfigError('Set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL in production');
    jwtSecret = developmentSecret(dataDir);
  }
  const secretGenerated = Boolean(jwtSecret) && !env.AUTH_JWT_SECRET;
  const maxTokenLifetimeSeconds = parseDurationSeconds(env.AUTH_MAX_TOKEN_LIFETIME || DEFAULT_MAX_TOKEN_LIFETIME);
  if (maxTokenLifetimeSeconds === null) throw new ConfigError('AUTH_MAX_TOKEN_LIFETIME must be a positive number of seconds, or with a unit: 30m, 24h, 7d');
  if (jwtSecret && isProduction && Buffer.byteLength(jwtSecret) < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 bytes in production');
  const limit = (name: string, fallback: number): number => {
    const value = Number(numberSetting(env, name) ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number ≥ 0 (0 turns the limit off)`);
    return value;
  };
  const callerLimits = {
    mutationsPerSecond: limit('MUTATION_RATE_LIMIT', 100),
    queriesPerSecond: limit('QUERY_RATE_LIMIT', 20),
    subscriptionsPerSecond: limit('SUBSCRIPTION_RATE_LIMIT', 20),
    connections: limit('MAX_CONNECTIONS_PER_CALLER', 20),
    subscriptionsPerConnection: limit('MAX_SUBSCRIPTIONS_PER_CONNECTION', DEFAULT_SUBSCRIPTIONS_PER_CONNECTION),
  };
  const cachePatients = Number(numberSetting(env, 'LEDGER_CACHE_PATIENTS') ?? DEFAULT_LEDGER_CACHE_PATIENTS);
  if (!Number.isInteger(cachePatients) || cachePatients < 0) throw new ConfigError('LEDGER_CACHE_PATIENTS must be a whole number ≥ 0 (0 keeps no patient in memory)');
  const logLevel = (env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info')) as Config['logLevel'];
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    nodeEnv,
    isProduction,
    database: loadDatabaseConfig(env, cwd),
    redisUrl: env.REDIS_URL || null,
    auth: { jwtSecret, secretGenerated, maxTokenLifetimeSeconds, jwksUrl, issuer: env.AUTH_ISSUER || null, audience: env.AUTH_AUDIENCE || null },
    seedDemo: env.SEED_DEMO ? env.SEED_DEMO === 'true' : !isProduction && nodeEnv !== 'test',
    dashboard: parseDashboard(env.DASHBOARD, nodeEnv),
    logLevel,
    callerLimits,
    ledger: { cachePatients, verify: ['1', 'true'].includes(env.LEDGER_VERIFY ?? '') },
  };
}
