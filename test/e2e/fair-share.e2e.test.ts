/**
 * Fair shares between callers and practices, with the default limits: one practice's caller floods reads and
 * subscription starts from its own process (32 HTTP loops and 4 WebSocket subscribe/complete loops, as fast as the
 * server answers) while another practice's write-offs keep a median latency within 3× of the idle one. The flood is
 * refused (RATE_LIMITED, answered after a short delay), its accepted reads are all audited, and a caller cannot hold
 * more WebSocket connections than its limit.
 *
 * It measures latency, so it runs on its own after the rest of `npm test` (see jest.config.js and package.json).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parse } from 'graphql';
import WebSocket from 'ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Caller, TestServer, startTestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';

type Data = Record<string, any>;
const doc = (query: string) => parse(query) as TypedDocumentNode<Data, Record<string, unknown>>;
const WRITE_OFF = doc('mutation($i: WriteOffInput!) { writeOff(input: $i) { balance { version } userErrors { code } } }');
const SCREEN = `query($id: ID!) { patient(id: $id) { id firstName lastName balance { outstandingCents version }
  charges(first: 20) { edges { node { id serviceDate openCents responsibilities { id openCents canWriteOff { allowed code message } } } } } } }`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Sequential one-cent write-offs, taking the next line that still has room; the median wall time of each over HTTP. */
async function writeOffLatency(caller: Caller, lines: string[], count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const data = await server.ok(caller, WRITE_OFF, { i: { responsibilityId: lines.shift()!, amountCents: 1, reason: 'SMALL_BALANCE' } });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    expect(data.writeOff.userErrors).toEqual([]);
  }
  return median(times);
}

/** Runs test/support/flood.mjs in its own process and returns its counts by outcome. */
function flood(options: Record<string, unknown>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'flood.mjs'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`flood exited ${code}`))));
  });
}

test('one practice floods reads and subscriptions; another practice’s write-offs stay within 3× of idle (median)', async () => {
  // The quiet practice: a front desk writing off cents on one line.
  const quietPractice = `quiet-${server.practice}`;
  const quietAdmin = await server.caller('ADMIN', quietPractice);
  const desk = await server.caller('FRONT_DESK', quietPractice, 'desk');
  const quietPatient = await newPatient(server, quietAdmin);
  // 20 lines that take 10 write-offs each (the most a line holds), in the order the write-offs will use them.
  const { lineIds } = await newCharge(server, quietAdmin, quietPatient, Array.from({ length: 20 }, () => 1_000), 100_000);
  const lines = Array.from({ length: 10 }, () => lineIds).flat();
  // The noisy practice: a dashboard user reading a 20-charge patient screen.
  const noisyAdmin = await server.caller('ADMIN');
  const dashboard = await server.caller('VIEWER', server.practice, 'dashboard');
  const noisyPatient = await newPatient(server, noisyAdmin);
  for (let i = 0; i < 20; i++) await newCharge(server, noisyAdmin, noisyPatient, [1_000, 500], 5_000);

  await writeOffLatency(desk, lines, 10); // warm up
  const idle = await writeOffLatency(desk, lines, 40);

  const durationMs = 8_000;
  const counts = flood({
    url: server.url,
    token: dashboard.token,
    query: SCREEN,
    variables: { id: noisyPatient },
    subscription: 'subscription($id: ID!) { patientBalanceChanged(patientId: $id) { patientId version } }',
    httpLoops: 32,
    wsSockets: 4,
    durationMs,
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // past the bursts, into the steady flood
  const noisy = await writeOffLatency(desk, lines, 40);
  const flooded = await counts;

  // The flood really happened, and was mostly refused.
  expect(flooded['http:RATE_LIMITED']).toBeGreaterThan(100);
  expect(flooded['ws:RATE_LIMITED']).toBeGreaterThan(10);
  // What it was allowed: at most the default 20 queries and 20 subscription starts per second, plus the 5-second bursts.
  const seconds = durationMs / 1000 + 1;
  expect(flooded['http:ok']).toBeLessThanOrEqual(20 * seconds + 100);
  expect(flooded['ws:next']).toBeLessThanOrEqual(20 * seconds + 100);
  expect(Object.keys(flooded).filter((k) => /INTERNAL|failed|socket-error/.test(k))).toEqual([]);

  expect(noisy).toBeLessThanOrEqual(3 * idle);
  process.stdout.write(`fair share: write-off median idle ${idle.toFixed(1)} ms, under flood ${noisy.toFixed(1)} ms (${(noisy / idle).toFixed(2)}×); flood ${JSON.stringify(flooded)}\n`);

  // Every read the flood was answered is in the audit trail (batched, so flushed first by the trail itself).
  const trail = server.instances[0].services.audit;
  await trail.flush();
  const [row] = await server.instances[0].services.db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM audit_events WHERE practice_id = ? AND actor_id = 'dashboard' AND operation = 'patient' AND outcome = 'READ'",
    [server.practice],
  );
  expect(Number(row.n)).toBe(flooded['http:ok']);
}, 90_000);

test('a caller holds at most MAX_CONNECTIONS_PER_CALLER (20) WebSocket connections; the next is closed with 4429', async () => {
  const viewer = await server.caller('VIEWER', server.practice, 'many-tabs');
  const open = (): Promise<{ socket: WebSocket; acked: boolean; closeCode?: number }> =>
    new Promise((resolve) => {
      const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${viewer.token}` } })));
      socket.on('message', (raw) => {
        if (JSON.parse(String(raw)).type === 'connection_ack') resolve({ socket, acked: true });
      });
      socket.on('close', (closeCode) => resolve({ socket, acked: false, closeCode }));
    });
  const sockets: { socket: WebSocket; acked: boolean }[] = [];
  for (let i = 0; i < 20; i++) sockets.push(await open());
  expect(sockets.every((s) => s.acked)).toBe(true);
  const refused = await open();
  expect(refused).toMatchObject({ acked: false, closeCode: 4429 });
  // Another user of the same practice is not affected; and closing one frees a slot.
  const colleague = await server.caller('VIEWER', server.practice, 'colleague');
  const theirs = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise<void>((resolve) => {
    theirs.on('open', () => theirs.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${colleague.token}` } })));
    theirs.on('message', () => resolve());
  });
  theirs.close();
  await new Promise<void>((resolve) => {
    sockets[0].socket.once('close', () => resolve());
    sockets[0].socket.close();
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const again = await open();
  expect(again.acked).toBe(true);
  for (const s of [...sockets, again]) s.socket.close();
});
