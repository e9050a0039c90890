/**
 * What a deployer runs (issue 9): `npm start` on a fresh checkout builds, then serves; in a production install (no
 * dev dependencies, so no TypeScript) it serves the build made beforehand, and refuses in one line when there is
 * none; SIGTERM sent to the npm process stops the server gracefully and npm exits 0; `npm run migrate` needs only the
 * database; a port in use is one line and exit 1.
 *
 * Every install is a directory of its own under the system temp dir, never the working tree. A checkout is a copy of
 * the working tree's files with node_modules linked (its build therefore needs a tree without type errors, as
 * `npm start` does). A production install holds package.json, scripts/ and the build (dist/src, built first), with
 * links to the dependencies that `npm ci --omit=dev` installs: every package but the dev dependencies.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { ROOT, ensureBuilt } from '../support/built-dist';
import { Running, descendants, isRunning, runToExit, startListening } from '../support/child-process';
import { loadDatabaseConfig } from '../../src/config';
import { Database } from '../../src/db/database';

jest.setTimeout(120_000);

const SECRET = 'deploy-test-secret-that-is-long-enough-for-hs256';
const dirs: string[] = [];
/** Processes a test started (npm and everything below it), killed after each test if they outlived it. */
const started = new Set<number>();

afterEach(() => {
  for (const pid of started) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  started.clear();
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(kind: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ledger-${kind}-`));
  dirs.push(dir);
  return dir;
}

/** The working tree as a fresh clone has it: sources, no dist/, no data, dependencies installed. */
function checkout(): string {
  const dir = tempDir('checkout');
  const notInAClone = new Set(['.git', 'node_modules', 'dist', 'data', 'coverage', '.env']);
  for (const entry of fs.readdirSync(ROOT)) {
    if (!notInAClone.has(entry)) fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** What a production host has after the build step and `npm ci --omit=dev`. */
function productionInstall(options: { built: boolean }): string {
  const dir = tempDir('production');
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(ROOT, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  if (options.built) fs.cpSync(ensureBuilt(), path.join(dir, 'dist', 'src'), { recursive: true });
  const devDependencies = new Set(Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies));
  const link = (name: string) => {
    if (devDependencies.has(name)) return;
    fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  };
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const scoped of fs.readdirSync(path.join(ROOT, 'node_modules', entry))) link(`${entry}/${scoped}`);
    else link(entry);
  }
  expect(() => require.resolve('typescript', { paths: [dir] })).toThrow();
  return dir;
}

/** npm as a deployer runs it, with nothing of this machine's npm set-up: no user config, cache or log files. */
function npmEnv(dir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, npm_config_cache: path.join(dir, '.npm'), npm_config_logs_max: '0', npm_config_update_notifier: 'false', ...env };
}

function serverEnv(dir: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: `sqlite:${path.join(dir, 'data', 'ledger.sqlite')}`,
    AUTH_JWT_SECRET: SECRET,
    SEED_DEMO: 'false',
  };
}

async function npmStart(dir: string, env: Record<string, string>): Promise<Running> {
  const server = await startListening('npm', ['start'], { cwd: dir, env: npmEnv(dir, env) });
  started.add(server.process.pid!);
  for (const pid of descendants(server.process.pid!)) started.add(pid);
  return server;
}

async function answers(url: string, route: string): Promise<number | null> {
  try {
    return (await fetch(new URL(route, url), { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return null;
  }
}

/** SIGTERM to npm, as a container runtime or process manager sends it: the server below it must stop, and npm exit 0. */
async function expectGracefulStop(server: Running): Promise<void> {
  const below = descendants(server.process.pid!);
  expect(below.length).toBeGreaterThan(0);
  const signalledAt = Date.now();
  server.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([server.exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 10_000)))]);
  clearTimeout(timer);
  expect(exit && { code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  while (below.some(isRunning) && Date.now() - signalledAt < 5_000) await new Promise((resolve) => setTimeout(resolve, 50));
  expect({ stillRunning: below.filter(isRunning) }).toEqual({ stillRunning: [] });
  expect(Date.now() - signalledAt).toBeLessThan(5_000);
  expect(await answers(server.url, '/healthz')).toBeNull();
  expect(server.stdout()).toContain('"event":"shutdown","signal":"SIGTERM"');
}

test('a fresh checkout: npm start builds dist/, then serves; SIGTERM to npm stops the server and npm exits 0', async () => {
  const dir = checkout();
  expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
  const server = await npmStart(dir, serverEnv(dir));
  expect(fs.existsSync(path.join(dir, 'dist', 'src', 'main.js'))).toBe(true);
  expect(await answers(server.url, '/healthz')).toBe(200);
  await expectGracefulStop(server);
});

describe('a production install (no dev dependencies, so no TypeScript)', () => {
  test('NODE_ENV=production: npm run migrate needs only the database; npm start serves the existing build; SIGTERM stops it', async () => {
    const dir = productionInstall({ built: true });
    const built = fs.statSync(path.join(dir, 'dist', 'src', 'main.js')).mtimeMs;
    const production: Record<string, string> = { ...serverEnv(dir), NODE_ENV: 'production' };
    const { AUTH_JWT_SECRET: secret, ...withoutSecret } = production;

    const migrate = await runToExit('npm', ['run', '-s', 'migrate'], { cwd: dir, env: npmEnv(dir, withoutSecret) });
    expect(migrate).toMatchObject({ code: 0, stdout: 'migrations applied\n', stderr: '' });
    // Connecting without migrating fails while any migration is pending.
    const db = await Database.connect(loadDatabaseConfig(withoutSecret), { migrate: false });
    await db.close();

    // The server itself still refuses production without a secret.
    const refused = await runToExit(process.execPath, [path.join(dir, 'dist', 'src', 'main.js')], { cwd: dir, env: { PATH: process.env.PATH, ...withoutSecret } });
    expect(refused).toMatchObject({ code: 1, stderr: 'Configuration error: Set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL in production\n' });

    const server = await npmStart(dir, { ...withoutSecret, AUTH_JWT_SECRET: secret });
    expect(fs.statSync(path.join(dir, 'dist', 'src', 'main.js')).mtimeMs).toBe(built);
    expect(await answers(server.url, '/readyz')).toBe(200);
    await expectGracefulStop(server);
  });

  test('TOKEN=$(npm run -s token -- ...) captures the token alone; what it is goes to stderr', async () => {
    const dir = productionInstall({ built: true });
    const run = await runToExit('npm', ['run', '-s', 'token', '--', '--practice', 'deploy-practice', '--role', 'billing'], { cwd: dir, env: npmEnv(dir, serverEnv(dir)) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(decodeJwt(run.stdout.trim())).toMatchObject({ practiceId: 'deploy-practice', role: 'BILLING', sub: 'billing-user' });
    expect(run.stderr).toMatch(/^Token for practice deploy-practice, role BILLING, user billing-user, valid for 12h \(until .+\)\.\n/);
  });

  test('without a build, npm start stops with one line saying how to make one, exit 1', async () => {
    const dir = productionInstall({ built: false });
    const run = await runToExit('npm', ['start'], { cwd: dir, env: npmEnv(dir, serverEnv(dir)) });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'There is no build to run: dist/ is missing and TypeScript is not installed (it is a dev dependency). ' +
        'Build before installing for production: npm ci && npm run build && npm ci --omit=dev. For development: npm install.',
    ]);
    expect(run.stdout).not.toContain('listening on');
  });
});

describe('start-up failures of node dist/src/main.js', () => {
  let dir: string;
  let main: string;
  beforeAll(() => {
    main = path.join(ensureBuilt(), 'main.js');
    dir = tempDir('start-failure');
  });

  async function startOn(port: number, host: string) {
    return runToExit(process.execPath, [main], { cwd: dir, env: { PATH: process.env.PATH, ...serverEnv(dir), PORT: String(port), HOST: host } }, 30_000);
  }

  test('a port in use: one line on stderr, no stack, exit 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const run = await startOn(port, '127.0.0.1');
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: `Port ${port} is already in use: stop the other process or set PORT.\n` });
    } finally {
      holder.close();
    }
  });

  test('a HOST that is not an address of this machine: one line on stderr, exit 1', async () => {
    // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it.
    const run = await startOn(0, '192.0.2.1');
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: 'HOST 192.0.2.1 is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all.\n' });
  });
});
