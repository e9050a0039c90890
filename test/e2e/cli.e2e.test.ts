/**
 * The token CLI as staff run it (`npm run token`, here its built program `node dist/src/auth/token-cli.js` with stdout
 * a pipe, as in `TOKEN=$(npm run -s token -- ...)`): the token alone on stdout and what it is on stderr; role names in
 * any case; every refusal says what is wrong, then the usage; a warning when the practice has no data in the
 * database (read while the server runs on it), or the database file does not exist.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';
import { ensureBuilt } from '../support/built-dist';
import { Running, runToExit, startListening } from '../support/child-process';
import { DEMO_PRACTICE_ID } from '../../src/demo/seed';

const SECRET = 'cli-test-secret-that-is-long-enough-for-hs256-signing';
const USAGE = 'usage: npm run token -- --practice <id> --role <VIEWER|FRONT_DESK|BILLING|BILLING_MANAGER|ADMIN> [--sub <user>] [--expires 12h]';

let dir: string;
let dist: string;
let env: NodeJS.ProcessEnv;
const databaseFile = () => path.join(dir, 'ledger.sqlite');

beforeAll(() => {
  dist = ensureBuilt();
}, 120_000);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-cli-'));
  env = { PATH: process.env.PATH, NODE_ENV: 'test', DATA_DIR: dir, DATABASE_URL: `sqlite:${databaseFile()}`, AUTH_JWT_SECRET: SECRET };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function token(...args: string[]) {
  return runToExit(process.execPath, [path.join(dist, 'auth', 'token-cli.js'), ...args], { cwd: dir, env });
}

test('a role name in any case; the token alone on stdout (one line), what it is on stderr', async () => {
  const run = await token('--practice', 'cli-practice', '--role', 'viewer', '--expires', '30m');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const { payload } = await jwtVerify(run.stdout.trim(), new TextEncoder().encode(SECRET));
  expect(payload).toMatchObject({ practiceId: 'cli-practice', role: 'VIEWER', sub: 'viewer-user' });
  expect(payload.exp! - payload.iat!).toBe(1800);
  expect(run.stderr.split('\n')[0]).toMatch(/^Token for practice cli-practice, role VIEWER, user viewer-user, valid for 30m \(until \d{4}-\d\d-\d\dT[\d:.]+Z\)\.$/);

  expect(await token('--practice=cli-practice', '--role=Billing_Manager', '--sub=ana')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\S+\n$/) });
});

test('refuses an unknown role or option, a missing value, a stray argument or a repeated option: what is wrong, then the usage', async () => {
  const refusals: [string[], string][] = [
    [['--practice', 'p', '--role', 'boss'], 'Unknown role boss: use one of VIEWER, FRONT_DESK, BILLING, BILLING_MANAGER, ADMIN.'],
    [['--practice', 'p', '--role', 'VIEWER', '--practise', 'q'], 'Unknown option --practise: the options are --practice, --role, --sub, --expires.'],
    [['--practice', '--role', 'VIEWER'], '--practice needs a value.'],
    [['--practice', 'p', '--role'], '--role needs a value.'],
    [['--practice', 'p', '--role', 'VIEWER', 'extra'], 'Unexpected argument extra: every value follows its option, e.g. --practice demo-practice.'],
    [['--practice', 'p', '--role', 'ADMIN', '--role', 'VIEWER'], '--role is given twice: give it once.'],
    [['--role', 'ADMIN'], '--practice is required: the practice the token is for, e.g. --practice demo-practice.'],
    [['--practice', 'p'], '--role is required: one of VIEWER, FRONT_DESK, BILLING, BILLING_MANAGER, ADMIN.'],
  ];
  for (const [args, message] of refusals) {
    expect({ args, ...(await token(...args)) }).toEqual({ args, code: 2, signal: null, stdout: '', stderr: `${message}\n${USAGE}\n` });
  }
  expect(await token('--help')).toEqual({ code: 0, signal: null, stdout: `${USAGE}\n`, stderr: '' });
});

test('warns when the database file does not exist yet, and leaves it uncreated', async () => {
  const run = await token('--practice', 'cli-practice', '--role', 'ADMIN');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^\S+\n$/);
  expect(run.stderr.split('\n')[1]).toBe(
    `Warning: the database ${databaseFile()} does not exist yet, so practice cli-practice has no data: check DATABASE_URL and DATA_DIR, or start the server once (npm start).`,
  );
  expect(fs.existsSync(databaseFile())).toBe(false);
});

test('warns when the database cannot be read for it: a file not migrated yet', async () => {
  fs.writeFileSync(databaseFile(), '');
  const run = await token('--practice', 'cli-practice', '--role', 'ADMIN');
  expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\S+\n$/) });
  expect(run.stderr.split('\n')[1]).toBe(`Warning: could not check whether practice cli-practice has data in ${databaseFile()}: The database has pending migrations: run \`npm run migrate\` first.`);
});

describe('with the server running on the database', () => {
  let server: Running;
  beforeEach(async () => {
    server = await startListening(process.execPath, [path.join(dist, 'main.js')], { cwd: dir, env: { ...env, PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'true' } });
  });
  afterEach(async () => {
    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  test('warns when the practice has no patients (a mistyped id), and says nothing more when it has', async () => {
    const demo = await token('--practice', DEMO_PRACTICE_ID, '--role', 'ADMIN');
    expect(demo.code).toBe(0);
    expect(demo.stderr).toMatch(new RegExp(`^Token for practice ${DEMO_PRACTICE_ID}, role ADMIN, user admin-user, valid for 12h \\(until [^)]+\\)\\.\\n$`));

    const typo = await token('--practice', 'demo-practise', '--role', 'ADMIN');
    expect(typo.code).toBe(0);
    expect(typo.stdout).toMatch(/^\S+\n$/);
    expect(typo.stderr.split('\n')[1]).toBe(`Warning: practice demo-practise has no patients in ${databaseFile()} yet: check the practice id (for a new practice this is expected).`);
  });
});
