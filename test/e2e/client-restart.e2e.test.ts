/**
 * The README's graphql-ws snippet ("Live balances for dashboards") survives a server restart (issue 9): the test takes
 * the TypeScript block from README.md as it is written, runs it as a browser page would (with `ws` standing in for the
 * browser's WebSocket), and puts it through a real restart: the built server in a child process on a fixed port with a
 * SQLite file, SIGTERM, the same server started again on the same port and file, then a write-off. Both subscriptions
 * must deliver the new balance, and the snippet's `connected` handler must have run again.
 */
import { spawn, ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as graphqlWs from 'graphql-ws';
import ts from 'typescript';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/tokens';
import { ROOT, ensureBuilt } from '../support/built-dist';
import { freePort } from '../support/net';
import { waitFor } from '../support/wait';

const SECRET = 'client-restart-test-secret-long-enough-for-hs256';
const PRACTICE = `practice-restart-${crypto.randomBytes(4).toString('hex')}`;

interface Balance {
  id: string;
  patientId: string;
  outstandingCents: number;
  version: number;
}

/** What the README snippet expects the page to provide. */
interface Page {
  getFreshToken(): Promise<string>;
  refetchBalances(): Promise<Balance[]>;
  render(balance: Balance): void;
  patientId: string;
}

const README_URL = "'ws://localhost:4000/graphql'";

/**
 * The README's TypeScript block that creates the graphql-ws client, compiled to a function of the page it runs in.
 * The one change: the server's address, `ws://localhost:4000/graphql` in the README, is the test server's. The block
 * may import only graphql-ws, and its client must be called `client` (the test disposes of it).
 */
function readmeSnippet(url: string): (page: Page) => graphqlWs.Client {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Live balances for dashboards\n')[1]?.split('\n## ')[0] ?? '';
  const block = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]).find((code) => code.includes('createClient('));
  if (!block) throw new Error('README.md has no graphql-ws client block under "Live balances for dashboards"');
  if (block.split(README_URL).length !== 2) throw new Error(`the README's client block should connect to ${README_URL}, once:\n${block}`);
  const source = block.replace(README_URL, JSON.stringify(url));
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const requireGraphqlWsOnly = (name: string) => {
    if (name === 'graphql-ws') return graphqlWs;
    throw new Error(`the README snippet imports ${name}`);
  };
  const run = new Function('require', 'exports', 'getFreshToken', 'refetchBalances', 'render', 'patientId', `${outputText}\nreturn client;`);
  return (page) => run(requireGraphqlWsOnly, {}, page.getFreshToken, page.refetchBalances, page.render, page.patientId);
}

/** The waits here span a server's stop and restart: longer than waitFor's default. */
const RESTART_TIMEOUT_MS = 30_000;

let distSrc: string;
let dir: string;
let port: number;
let server: ChildProcess | null = null;
let client: graphqlWs.Client | null = null;
const output: string[] = [];

/** Starts the built server on `port` with the test's SQLite file, and resolves once it listens. */
function startServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(distSrc, 'main.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${path.join(dir, 'ledger.sqlite')}`,
      AUTH_JWT_SECRET: SECRET,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let printed = '';
    child.stderr!.on('data', (chunk) => output.push(String(chunk)));
    child.stdout!.on('data', (chunk) => {
      output.push(String(chunk));
      printed += chunk;
      if (printed.includes('listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening:\n${output.join('')}`)));
  });
}

async function stopServer(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

async function gql<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

beforeAll(async () => {
  distSrc = ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-client-restart-'));
  port = await freePort();
  // The snippet is browser code: it uses the global WebSocket, which Node 20 does not have.
  Object.assign(globalThis, { WebSocket });
}, 120_000);

afterAll(async () => {
  await client?.dispose();
  if (server) await stopServer(server, 'SIGKILL');
  Reflect.deleteProperty(globalThis, 'WebSocket');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the README client reconnects after SIGTERM and a restart on the same port, and both subscriptions deliver the next balance', async () => {
  server = await startServer();
  const token = await signToken(SECRET, { sub: 'restart-manager', practiceId: PRACTICE, role: 'BILLING_MANAGER' });
  const created = await gql<{ createPatient: { patient: { id: string } } }>(token, 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { patient { id } } }', {
    i: { firstName: 'Restart', lastName: 'Survivor' },
  });
  const patientId = created.createPatient.patient.id;
  const charge = await gql<{ createCharge: { charge: { responsibilities: { id: string }[] } } }>(
    token,
    'mutation($i: CreateChargeInput!) { createCharge(input: $i) { charge { responsibilities { id } } } }',
    { i: { patientId, serviceDate: '2026-10-01', procedureCode: '99213', billedCents: 20_000, responsibilities: [{ kind: 'CUSTOM', amountCents: 10_000 }] } },
  );
  const lineId = charge.createCharge.charge.responsibilities[0].id;

  // The page the snippet runs in: its re-read is a real query, and it records what it was asked to do.
  let connectedRuns = 0;
  const rendered: Balance[] = [];
  const page: Page = {
    getFreshToken: () => signToken(SECRET, { sub: 'restart-dashboard', practiceId: PRACTICE, role: 'VIEWER' }),
    refetchBalances: async () => {
      connectedRuns++;
      const data = await gql<{ patient: { balance: Balance } }>(token, 'query($id: ID!) { patient(id: $id) { balance { id patientId outstandingCents version } } }', { id: patientId });
      return [data.patient.balance];
    },
    render: (balance) => void rendered.push(balance),
    patientId,
  };
  client = readmeSnippet(`ws://127.0.0.1:${port}/graphql`)(page);

  // What each subscription delivered, read off the socket; and every failed connection attempt.
  const delivered: Record<string, Balance[]> = { patientBalanceChanged: [], practiceBalanceChanged: [] };
  client.on('message', (message) => {
    if (message.type !== 'next') return;
    for (const [field, balance] of Object.entries(message.payload.data ?? {})) delivered[field]?.push(balance as Balance);
  });
  let connectionErrors = 0;
  client.on('error', () => void connectionErrors++);

  /** Practice subscriptions started on the server: each start is audited before it begins to listen. */
  const practiceSubscriptionStarts = async () => {
    const data = await gql<{ auditTrail: { edges: { node: { operation: string } }[] } }>(token, '{ auditTrail(first: 100) { edges { node { operation } } } }');
    return data.auditTrail.edges.filter((edge) => edge.node.operation === 'practiceBalanceChanged').length;
  };
  const state = () => JSON.stringify({ connectedRuns, connectionErrors, rendered, delivered });

  await waitFor(() => connectedRuns === 1 && delivered.patientBalanceChanged.length === 1, () => `the first connection (${state()})`, RESTART_TIMEOUT_MS);
  await waitFor(async () => (await practiceSubscriptionStarts()) === 1, () => `the practice subscription to start (${state()})`, RESTART_TIMEOUT_MS);
  const before = delivered.patientBalanceChanged[0];

  // A deploy: SIGTERM closes every socket with 1001 and the process exits; nothing listens on the port for a while.
  expect(await stopServer(server, 'SIGTERM')).toBe(0);
  server = null;
  await waitFor(() => connectionErrors > 0, () => `a connection attempt to the stopped server (${state()})`, RESTART_TIMEOUT_MS);
  server = await startServer();

  await waitFor(() => connectedRuns >= 2, () => `the reconnect (${state()})`, RESTART_TIMEOUT_MS);
  await waitFor(() => delivered.patientBalanceChanged.length >= 2, () => `patientBalanceChanged to resend the current balance (${state()})`, RESTART_TIMEOUT_MS);
  await waitFor(async () => (await practiceSubscriptionStarts()) === 2, () => `the practice subscription to start again (${state()})`, RESTART_TIMEOUT_MS);
  expect(delivered.patientBalanceChanged.at(-1)).toEqual(before);

  const writeOff = await gql<{ writeOff: { balance: Balance; userErrors: unknown[] } }>(
    token,
    'mutation($i: WriteOffInput!) { writeOff(input: $i) { balance { id patientId outstandingCents version } userErrors { code } } }',
    { i: { responsibilityId: lineId, amountCents: 2_500, reason: 'SMALL_BALANCE' } },
  );
  expect(writeOff.writeOff.userErrors).toEqual([]);
  const after = writeOff.writeOff.balance;
  expect(after).toEqual({ id: before.id, patientId, outstandingCents: before.outstandingCents - 2_500, version: before.version + 1 });

  for (const field of ['patientBalanceChanged', 'practiceBalanceChanged']) {
    await waitFor(() => delivered[field].some((balance) => balance.version === after.version), () => `${field} to deliver version ${after.version} (${state()})`, RESTART_TIMEOUT_MS);
    expect(delivered[field].at(-1)).toMatchObject(after);
  }
  // The page shows each version once, in order, ending on the new balance.
  expect(rendered.map((balance) => balance.version)).toEqual([before.version, after.version]);
  expect(rendered.at(-1)).toMatchObject(after);
}, 90_000);
