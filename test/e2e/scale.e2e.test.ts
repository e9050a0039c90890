/**
 * Scale-out (PostgreSQL + Redis behind several instances) and its faults, against real servers.
 *
 * These tests always run on PostgreSQL and Redis, whatever TEST_DB / TEST_REDIS_URL say: each block creates its own
 * throwaway database (PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and uses the shared Redis
 * (TEST_REDIS_URL, default redis://127.0.0.1:6379) or a redis-server of its own. Faults are made without touching the
 * shared services: a small TCP proxy (node:net) sits between a server and PostgreSQL or Redis and can cut every
 * connection and refuse new ones, then let them through again; a Redis restart is a redis-server of the test's own,
 * killed with SIGKILL and started again on the same port.
 *
 * Start-up failures, PostgreSQL lost mid-run, `npm run migrate` and graceful shutdown run the built server (`dist/`,
 * rebuilt when older than src/) as a child process, as a deployment would.
 *
 *   1. two instances on one database: events cross instances through Redis, on one channel per practice
 *   2. Redis restarts, or one instance's link to it drops: HTTP keeps working, subscribers converge afterwards
 *   3. PostgreSQL or Redis unreachable at start: one clear line on stderr, exit 1
 *   4. PostgreSQL lost mid-run: SERVICE_UNAVAILABLE, /readyz 503, recovery; then (6) graceful shutdown of that process
 *   5. migrate-cli as the deploy step (also twice at once), the probes, instances starting together on a fresh database
 */
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net, { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Client as WsClient, createClient } from 'graphql-ws';
import Redis from 'ioredis';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import {
  CreateChargeDocument,
  CreatePatientDocument,
  ScaleBalanceDocument,
  ScaleBalanceFieldsFragment,
  ScalePatientBalanceDocument,
  ScalePracticeBalanceDocument,
  ScaleWriteOffDocument,
} from '../__generated__/graphql';
import { Caller, startTestServer, TestServer, TEST_SECRET } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { PG_ADMIN_URL, ScratchDatabase, createScratchDatabase } from '../scratch-postgres';
import { signToken } from '../../src/auth/tokens';
import { Database } from '../../src/db/database';
import { MIGRATIONS } from '../../src/db/migrations';
import { ENTITIES } from '../../src/entities';
import { freePort } from '../support/net';
import { waitFor } from '../support/wait';
import { ensureBuilt } from '../support/built-dist';

jest.setTimeout(60_000);

// Every server here is given its own database: the harness need not create (and drop) one for TEST_DB=postgres.
// (jest gives each test file its own copy of process.env.)
delete process.env.TEST_DB;

const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const MIGRATE = path.join(ROOT, 'dist', 'src', 'db', 'migrate-cli.js');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANNEL_PREFIX = 'pr-ledger:balances:';

type Balance = ScaleBalanceFieldsFragment;

// ---------------------------------------------------------------------------------------------------------------
// Helpers: a TCP proxy, a redis-server of our own, child processes, waiting.

/** The same URL with its host and port replaced (to go through a proxy). */
function via(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

/**
 * A TCP proxy in front of PostgreSQL or Redis. `cut()` resets every open connection and stops listening (new
 * connections are refused, like a database that is down); `restore()` listens on the same port again.
 */
class TcpProxy {
  port = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly targetPort: number) {}

  static async start(targetUrl: string): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const proxy = new TcpProxy(Number(target.port || (target.protocol === 'redis:' ? 6379 : 5432)));
    await proxy.listen(0);
    return proxy;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) {
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Listens again on the same port (nothing happens when it already listens). */
  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }
}

/** A redis-server of the test's own (no persistence), which the test may kill and start again on the same port. */
class OwnRedis {
  private proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(() => canConnect(this.port), () => `redis-server on port ${this.port}`, 10_000);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    MUTATION_RATE_LIMIT: '0',
    ...extra,
  };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a built script to its end (killed after `timeoutMs`). */
function runToExit(script: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Exit> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-scale-'));
  const started = Date.now();
  const proc = spawn(process.execPath, [script], { cwd, env: childEnv({ DATA_DIR: cwd, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk) => (stdout += chunk));
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

interface ChildServer {
  proc: ChildProcess;
  url: string;
  exit: Promise<Exit>;
}

/** Starts the built server and resolves once it listens. */
function startChild(env: Record<string, string>): Promise<ChildServer> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-scale-'));
  const started = Date.now();
  const proc = spawn(process.execPath, [MAIN], { cwd, env: childEnv({ DATA_DIR: cwd, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => {
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in 30 s: ${stdout}${stderr}`));
    }, 30_000);
    proc.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, url: match[1], exit });
      }
    });
    void exit.then((result) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${result.code} before listening: ${result.stdout}${result.stderr}`));
    });
  });
}

interface Reply<R> {
  status: number;
  data?: R | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post<R, V>(url: string, token: string, document: TypedDocumentNode<R, V>, variables: V): Promise<Reply<R>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Reply<R>, 'status'>) };
}

/** A patient with one open PR line of 100.00, made over HTTP on a child server. */
async function childLine(url: string, token: string): Promise<{ patientId: string; lineId: string }> {
  const patient = await post(url, token, CreatePatientDocument, { input: { firstName: 'Pat', lastName: `Child${crypto.randomBytes(3).toString('hex')}` } });
  const patientId = patient.data!.createPatient.patient!.id;
  const charge = await post(url, token, CreateChargeDocument, {
    input: { patientId, serviceDate: '2026-10-01', procedureCode: '99213', billedCents: 20_000, responsibilities: [{ kind: 'CUSTOM', amountCents: 10_000 }] },
  });
  return { patientId, lineId: charge.data!.createCharge.charge!.responsibilities[0].id };
}

async function probe(url: string, which: 'healthz' | 'readyz'): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url.replace(/\/graphql$/, `/${which}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** What one subscription has received so far, and how it ended. */
interface Stream {
  items: Balance[];
  error: unknown;
  ended: boolean;
  stop(): void;
  /** The newest balance received for a patient. */
  latest(patientId: string): Balance | undefined;
}

function watch(client: WsClient, document: TypedDocumentNode<unknown, Record<string, unknown>>, variables: Record<string, unknown>): Stream {
  const stream: Stream = {
    items: [],
    error: null,
    ended: false,
    stop: () => undefined,
    latest: (patientId) => [...stream.items].reverse().find((item) => item.patientId === patientId),
  };
  stream.stop = client.subscribe<Record<string, Balance>>(
    { query: print(document), variables },
    {
      next: (result) => {
        if (result.errors) stream.error = result.errors;
        if (result.data) stream.items.push(Object.values(result.data)[0]);
      },
      error: (error) => {
        stream.error = error;
        stream.ended = true;
      },
      complete: () => {
        stream.ended = true;
      },
    },
  );
  return stream;
}

const watchPatient = (client: WsClient, patientId: string) => watch(client, ScalePatientBalanceDocument as never, { patientId });
const watchPractice = (client: WsClient) => watch(client, ScalePracticeBalanceDocument as never, {});

async function reaches(stream: Stream, patientId: string, version: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    () => stream.items.some((item) => item.patientId === patientId && item.version === version) || stream.ended,
    () => `version ${version} of ${patientId}; got ${JSON.stringify(stream.items.map((i) => [i.patientId.slice(0, 8), i.version]))} (error ${JSON.stringify(stream.error)})`,
    timeoutMs,
  );
  if (stream.ended) throw new Error(`the subscription ended: ${JSON.stringify(stream.error)}`);
}

/**
 * A practice stream sends nothing when it starts, so a change made right after subscribing may come before the server
 * listens. Changes are made until the stream hears one: from then on it is surely live. Returns the change it heard.
 */
async function primed(stream: Stream, change: () => Promise<Balance>): Promise<Balance> {
  for (let attempt = 1; ; attempt++) {
    const balance = await change();
    try {
      await reaches(stream, balance.patientId, balance.version, 1_000);
      return balance;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

async function writeOff(server: TestServer, caller: Caller, lineId: string, instance: number, amountCents = 100): Promise<Balance> {
  const data = await server.ok(caller, ScaleWriteOffDocument, { input: { responsibilityId: lineId, amountCents, reason: 'BAD_DEBT' } }, instance);
  expect(data.writeOff.userErrors).toEqual([]);
  return data.writeOff.balance!;
}

async function balanceOf(server: TestServer, caller: Caller, patientId: string, instance: number): Promise<Balance> {
  const data = await server.ok(caller, ScaleBalanceDocument, { id: patientId }, instance);
  return data.patient!.balance;
}

/** A patient with one open PR line of 100.00. */
async function patientWithLine(server: TestServer, caller: Caller): Promise<{ patientId: string; lineId: string }> {
  const patientId = await newPatient(server, caller);
  const { lineIds } = await newCharge(server, caller, patientId, [10_000]);
  return { patientId, lineId: lineIds[0] };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const practiceId = (tag: string) => `scale-${tag}-${crypto.randomBytes(5).toString('hex')}`;

// ---------------------------------------------------------------------------------------------------------------
// 1. Two instances on one PostgreSQL, events through Redis.

describe('two instances sharing PostgreSQL and Redis', () => {
  let db: ScratchDatabase;
  let server: TestServer;
  const clients: WsClient[] = [];
  const B = 1;
  const A = 0;

  beforeAll(async () => {
    db = await createScratchDatabase('ledger_scale');
    server = await startTestServer({ instances: 2, env: { DATABASE_URL: db.url, REDIS_URL } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await server?.stop();
    await db?.drop();
  });

  test('both instances run on PostgreSQL with Redis events', () => {
    for (const instance of server.instances) {
      expect(instance.services.db.kind).toBe('postgres');
      expect(instance.config.redisUrl).toBe(REDIS_URL);
    }
  });

  test('a write-off on instance A reaches a patientBalanceChanged subscriber on instance B with the right version', async () => {
    const caller = await server.caller('BILLING_MANAGER', practiceId('ab'));
    const { patientId, lineId } = await patientWithLine(server, caller);
    const client = server.ws(caller, B);
    clients.push(client);
    const stream = watchPatient(client, patientId);
    await waitFor(() => stream.items.length >= 1 || stream.ended, () => 'the current balance');
    const before = stream.items[0];
    expect(before).toMatchObject({ patientId, outstandingCents: 10_000, writtenOffCents: 0 });

    const first = await writeOff(server, caller, lineId, A, 1_500);
    expect(first.version).toBeGreaterThan(before.version);
    await reaches(stream, patientId, first.version);
    expect(stream.latest(patientId)).toEqual(first);

    const second = await writeOff(server, caller, lineId, A, 500);
    await reaches(stream, patientId, second.version);
    expect(stream.latest(patientId)).toEqual({ patientId, outstandingCents: 8_000, writtenOffCents: 2_000, version: second.version });
    // Versions only go up, and B's answer over HTTP agrees with what its subscriber was told.
    const versions = stream.items.map((item) => item.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(await balanceOf(server, caller, patientId, B)).toEqual(second);
  });

  test('practiceBalanceChanged on B hears its own practice only; each practice has its own Redis channel', async () => {
    const x = await server.caller('BILLING_MANAGER', practiceId('x'));
    const y = await server.caller('BILLING_MANAGER', practiceId('y'));
    const px = await patientWithLine(server, x);
    const py = await patientWithLine(server, y);

    // Straight on Redis: the channels are named after the practice.
    const raw = new Redis(REDIS_URL, { lazyConnect: true });
    const messages: { channel: string; event: Record<string, unknown> }[] = [];
    raw.on('message', (channel: string, message: string) => messages.push({ channel, event: JSON.parse(message) }));
    await raw.connect();
    await raw.subscribe(CHANNEL_PREFIX + x.practiceId, CHANNEL_PREFIX + y.practiceId);
    try {
      const clientX = server.ws(x, B);
      const clientY = server.ws(y, B);
      clients.push(clientX, clientY);
      const streamX = watchPractice(clientX);
      const streamY = watchPractice(clientY);
      // Both streams are live once a change of their own practice arrives.
      await primed(streamX, () => writeOff(server, x, px.lineId, A));
      await primed(streamY, () => writeOff(server, y, py.lineId, A));

      // Y changes, then X changes: X's stream gets X's change and nothing of Y's, though Y's reached B (Y's stream).
      const y2 = await writeOff(server, y, py.lineId, A);
      const x2 = await writeOff(server, x, px.lineId, A);
      await reaches(streamY, py.patientId, y2.version);
      await reaches(streamX, px.patientId, x2.version);
      expect(new Set(streamX.items.map((item) => item.patientId))).toEqual(new Set([px.patientId]));
      expect(new Set(streamY.items.map((item) => item.patientId))).toEqual(new Set([py.patientId]));

      // On Redis, every change of X went to X's channel and every change of Y to Y's, one message per committed change.
      await waitFor(() => messages.some((m) => m.event.version === x2.version && m.event.patientId === px.patientId), () => 'X\'s last change on Redis');
      const onX = messages.filter((m) => m.channel === CHANNEL_PREFIX + x.practiceId).map((m) => m.event);
      const onY = messages.filter((m) => m.channel === CHANNEL_PREFIX + y.practiceId).map((m) => m.event);
      const versionsX = onX.map((e) => e.version as number);
      const versionsY = onY.map((e) => e.version as number);
      expect(onX.map((e) => [e.practiceId, e.patientId])).toEqual(onX.map(() => [x.practiceId, px.patientId]));
      expect(onY.map((e) => [e.practiceId, e.patientId])).toEqual(onY.map(() => [y.practiceId, py.patientId]));
      expect(versionsX).toEqual(range(versionsX[0], x2.version));
      expect(versionsY).toEqual(range(versionsY[0], y2.version));
      // The event is the whole balance, not a delta.
      expect(onX[onX.length - 1]).toMatchObject({ outstandingCents: x2.outstandingCents, writtenOffCents: x2.writtenOffCents });
    } finally {
      raw.disconnect();
    }
  });

  test('an event forged onto a practice channel with another practice id is not delivered', async () => {
    const x = await server.caller('BILLING_MANAGER', practiceId('forge-x'));
    const px = await patientWithLine(server, x);
    const client = server.ws(x, B);
    clients.push(client);
    const stream = watchPractice(client);
    const x1 = await primed(stream, () => writeOff(server, x, px.lineId, A));
    const raw = new Redis(REDIS_URL);
    try {
      await raw.publish(CHANNEL_PREFIX + x.practiceId, JSON.stringify({ ...x1, practiceId: 'someone-else', patientId: 'intruder', version: 999 }));
      const x2 = await writeOff(server, x, px.lineId, A);
      await reaches(stream, px.patientId, x2.version);
      expect(new Set(stream.items.map((item) => item.patientId))).toEqual(new Set([px.patientId]));
      expect(stream.items.map((item) => item.version)).not.toContain(999);
    } finally {
      raw.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Redis restarts or drops the connection mid-run.

describe('Redis faults mid-run', () => {
  let db: ScratchDatabase;
  let redis: OwnRedis;
  let proxy: TcpProxy;
  /** Instance A reaches Redis through the proxy (so its link alone can be cut); instance B connects directly. */
  let a: TestServer;
  let b: TestServer;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    db = await createScratchDatabase('ledger_scale');
    redis = await OwnRedis.start();
    proxy = await TcpProxy.start(redis.url);
    a = await startTestServer({ instances: 1, env: { DATABASE_URL: db.url, REDIS_URL: via(redis.url, proxy.port) } });
    b = await startTestServer({ instances: 1, env: { DATABASE_URL: db.url, REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await a?.stop();
    await b?.stop();
    await proxy?.cut();
    await redis?.kill();
    await db?.drop();
  });

  function subscriberOn(server: TestServer, caller: Caller): WsClient {
    const client = server.ws(caller);
    clients.push(client);
    return client;
  }

  /** A patient and a practice subscription on B, both seen to deliver a change made on A before the fault starts. */
  async function watchedOnB(caller: Caller, p: { patientId: string; lineId: string }): Promise<{ patientStream: Stream; practiceStream: Stream }> {
    const patientStream = watchPatient(subscriberOn(b, caller), p.patientId);
    const practiceStream = watchPractice(subscriberOn(b, caller));
    await waitFor(() => patientStream.items.length >= 1 || patientStream.ended, () => 'the current balance');
    const live = await primed(practiceStream, () => writeOff(a, caller, p.lineId, 0));
    await reaches(patientStream, p.patientId, live.version);
    return { patientStream, practiceStream };
  }

  test('Redis restarts: HTTP keeps working, and subscribers on the other instance converge without resubscribing', async () => {
    const caller = await a.caller('BILLING_MANAGER', practiceId('restart'));
    const p1 = await patientWithLine(a, caller);
    const p2 = await patientWithLine(a, caller);
    const { patientStream, practiceStream } = await watchedOnB(caller, p1);

    await redis.kill();
    await waitFor(async () => (await probe(a.url, 'readyz')).status === 503, () => 'A not ready while Redis is down');
    const readyDuringOutage = await probe(b.url, 'readyz');
    expect(readyDuringOutage.status).toBe(503);
    expect(readyDuringOutage.body).toMatchObject({ database: true, events: false });
    expect((await probe(a.url, 'healthz')).status).toBe(200);

    // During the outage: mutations succeed on A, reads on B, and a new subscription on B can start (another practice).
    await writeOff(a, caller, p1.lineId, 0);
    await writeOff(a, caller, p2.lineId, 0);
    const during = await writeOff(a, caller, p1.lineId, 0);
    expect(await balanceOf(b, caller, p1.patientId, 0)).toEqual(during);
    const late = await a.caller('BILLING_MANAGER', practiceId('late'));
    const pl = await patientWithLine(a, late);
    const lateStream = watchPractice(subscriberOn(b, late));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than the bus's first retries
    expect(patientStream.items.map((i) => i.version)).not.toContain(during.version);

    await redis.restart();
    const truth1 = await balanceOf(b, caller, p1.patientId, 0);
    const truth2 = await balanceOf(b, caller, p2.patientId, 0);
    await reaches(patientStream, p1.patientId, truth1.version);
    await reaches(practiceStream, p1.patientId, truth1.version);
    await reaches(practiceStream, p2.patientId, truth2.version);
    expect(patientStream.latest(p1.patientId)).toEqual(truth1);
    expect(practiceStream.latest(p2.patientId)).toEqual(truth2);
    expect(patientStream.ended || practiceStream.ended).toBe(false);

    // Live again: the next change arrives as an event, and the subscription opened during the outage hears it too.
    const after = await writeOff(a, caller, p1.lineId, 0);
    await reaches(patientStream, p1.patientId, after.version);
    await reaches(practiceStream, p1.patientId, after.version);
    await primed(lateStream, () => writeOff(a, late, pl.lineId, 0));
    await waitFor(async () => (await probe(a.url, 'readyz')).status === 200, () => 'A ready again');
    expect((await probe(b.url, 'readyz')).body).toMatchObject({ status: 'ready', database: true, events: true });
  });

  test("only instance A's link to Redis drops: B's subscribers still converge on A's changes once A is back", async () => {
    const caller = await a.caller('BILLING_MANAGER', practiceId('link'));
    const p1 = await patientWithLine(a, caller);
    const { patientStream, practiceStream } = await watchedOnB(caller, p1);

    await proxy.cut();
    await waitFor(async () => (await probe(a.url, 'readyz')).status === 503, () => 'A not ready without Redis');
    expect((await probe(b.url, 'readyz')).status).toBe(200);
    await writeOff(a, caller, p1.lineId, 0);
    const during = await writeOff(a, caller, p1.lineId, 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(patientStream.items.map((i) => i.version)).not.toContain(during.version);

    await proxy.restore();
    await reaches(patientStream, p1.patientId, during.version);
    await reaches(practiceStream, p1.patientId, during.version);
    expect(patientStream.latest(p1.patientId)).toEqual(await balanceOf(b, caller, p1.patientId, 0));
    await waitFor(async () => (await probe(a.url, 'readyz')).status === 200, () => 'A ready again');
  });

  test('an instance whose Redis is down stops promptly, even with a subscription opened during the outage', async () => {
    await proxy.cut();
    const caller = await a.caller('BILLING_MANAGER', practiceId('stop'));
    const { patientId } = await patientWithLine(a, caller);
    // Its SUBSCRIBE waits in ioredis's offline queue: a QUIT behind it would wait for Redis too.
    const stream = watchPatient(subscriberOn(a, caller), patientId);
    await waitFor(() => stream.items.length >= 1 || stream.ended, () => 'the current balance');
    const started = Date.now();
    await a.stop();
    // Well inside main.ts's 10-second forced exit, on a busy machine too.
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(() => stream.ended, () => 'the subscription to end with the server');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. PostgreSQL or Redis unreachable at start.

describe('start-up without PostgreSQL or Redis', () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    ensureBuilt();
    db = await createScratchDatabase('ledger_scale');
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  function expectOneClearLine(exit: Exit, mentions: RegExp): void {
    expect(exit.stderr.trim().split('\n')).toHaveLength(1);
    expect(exit.stderr).toMatch(mentions);
    expect(exit.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(exit.stdout).not.toMatch(/listening on/);
  }

  // A database that drops packets instead of refusing fails the same way, after the pool's connection timeout
  // (connectionTimeoutMillis, 15 s): not run here, to keep the suite short.
  test('PostgreSQL refused, Redis refused, migrate without PostgreSQL: one clear line on stderr and exit 1 within seconds', async () => {
    const closed = await freePort();
    const exits = await Promise.all([
      runToExit(MAIN, { DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/ledger` }),
      runToExit(MAIN, { DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${closed}` }),
      runToExit(MIGRATE, { DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/ledger` }),
    ]);
    expect(exits.map((exit) => ({ code: exit.code, signal: exit.signal }))).toEqual([0, 1, 2].map(() => ({ code: 1, signal: null })));
    const [pgRefused, redisRefused, migrateRefused] = exits;
    expectOneClearLine(pgRefused, /^Cannot reach the database: connect ECONNREFUSED .*Check DATABASE_URL\.$/m);
    expectOneClearLine(redisRefused, /Cannot reach Redis at REDIS_URL \(connect ECONNREFUSED .*\)/);
    expectOneClearLine(migrateRefused, /^migration failed: Cannot reach the database: connect ECONNREFUSED .*Check DATABASE_URL\.$/m);
    // The machine may be busy (several suites at once): "within seconds" allows for a slow start of Node itself.
    for (const exit of exits) expect(exit.ms).toBeLessThan(15_000);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 4. PostgreSQL lost mid-run, and 6. graceful shutdown: one built server in a child process on PostgreSQL (through a
// proxy) and Redis. A child process, because its errors then come from one JavaScript realm as in production (under
// jest, errors made by Node's own `net` fail `instanceof Error` in the test's realm, and graphql-js rewraps them).

describe('a PostgreSQL + Redis instance in a child process: PostgreSQL lost mid-run, then graceful shutdown', () => {
  let db: ScratchDatabase;
  let proxy: TcpProxy;
  let child: ChildServer;
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    db = await createScratchDatabase('ledger_scale');
    proxy = await TcpProxy.start(db.url);
    child = await startChild({ DATABASE_URL: via(db.url, proxy.port), REDIS_URL });
    token = await signToken(TEST_SECRET, { sub: 'pg-manager', practiceId: practiceId('pg'), role: 'BILLING_MANAGER' });
  }, 120_000);
  afterEach(() => proxy.restore());
  afterAll(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exit;
    }
    await proxy?.cut();
    await db?.drop();
  });

  const writeOffInput = (lineId: string, amountCents = 100) => ({ input: { responsibilityId: lineId, amountCents, reason: 'BAD_DEBT' as const } });

  function expectCleanUnavailable(reply: Reply<unknown>): void {
    expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(Object.keys(reply.errors![0].extensions!)).toEqual(['code']);
    expect(JSON.stringify(reply.errors)).not.toMatch(/SELECT|INSERT|UPDATE|ECONN|stack|\.ts:|\.js:|127\.0\.0\.1|postgres|typeorm/i);
  }

  test('requests fail with SERVICE_UNAVAILABLE (nothing internal), /readyz is 503, and all recovers when it returns', async () => {
    const { patientId, lineId } = await childLine(child.url, token);
    const written = await post(child.url, token, ScaleWriteOffDocument, writeOffInput(lineId, 1_000));
    const before = written.data!.writeOff.balance!;
    expect((await probe(child.url, 'readyz')).status).toBe(200);
    expect(proxy.connections).toBeGreaterThan(0);

    await proxy.cut();

    const read = await post(child.url, token, ScaleBalanceDocument, { id: patientId });
    const write = await post(child.url, token, ScaleWriteOffDocument, writeOffInput(lineId));
    // A practice the instance has not met yet needs the database to sign in: the whole request is refused with 503.
    const stranger = await signToken(TEST_SECRET, { sub: 'viewer', practiceId: practiceId('pg-new'), role: 'VIEWER' });
    const signIn = await post(child.url, stranger, ScaleBalanceDocument, { id: patientId });
    for (const reply of [read, write, signIn]) expectCleanUnavailable(reply);
    expect(signIn.status).toBe(503);

    // A live subscription cannot read the current balance: it ends with the same clean error.
    const client = createClient({ url: child.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
    try {
      const stream = watchPatient(client, patientId);
      await waitFor(() => stream.ended, () => 'the subscription to end');
      expectCleanUnavailable({ status: 0, errors: stream.error as Reply<unknown>['errors'] });
    } finally {
      await client.dispose();
    }

    const notReady = await probe(child.url, 'readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ status: 'not ready', database: false, events: true });
    expect((await probe(child.url, 'healthz')).status).toBe(200);

    await proxy.restore();
    await waitFor(async () => (await probe(child.url, 'readyz')).status === 200, () => '/readyz 200 after PostgreSQL returns');
    expect((await probe(child.url, 'readyz')).body).toEqual({ status: 'ready', database: true, events: true, migrations: 'applied' });
    // The write-off that failed changed nothing; the next ones go through, and the new practice can sign in.
    const now = await post(child.url, token, ScaleBalanceDocument, { id: patientId });
    expect(now.data?.patient?.balance).toEqual(before);
    const after = await post(child.url, token, ScaleWriteOffDocument, writeOffInput(lineId));
    expect(after.errors).toBeUndefined();
    expect(after.data!.writeOff.balance).toMatchObject({ outstandingCents: before.outstandingCents - 100, version: before.version + 1 });
    const again = await post(child.url, stranger, ScaleBalanceDocument, { id: patientId });
    expect(again.errors).toBeUndefined();
    expect(again.data?.patient).toBeNull(); // another practice's patient: as if it did not exist
    expect(child.proc.exitCode).toBeNull();
  });

  test('connections killed by PostgreSQL (pg_terminate_backend) are replaced; at most the request in hand fails cleanly', async () => {
    const { patientId, lineId } = await childLine(child.url, token);
    const admin = new PgClient({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const failures: Reply<unknown>[] = [];
    let balance: Balance | null = null;
    for (let attempt = 0; attempt < 5 && !balance; attempt++) {
      const reply = await post(child.url, token, ScaleWriteOffDocument, writeOffInput(lineId));
      if (reply.errors) failures.push(reply);
      else balance = reply.data!.writeOff.balance;
    }
    failures.forEach(expectCleanUnavailable);
    expect(failures.length).toBeLessThanOrEqual(1);
    expect(balance).toMatchObject({ outstandingCents: 9_900, writtenOffCents: 100 });
    expect((await post(child.url, token, ScaleBalanceDocument, { id: patientId })).data?.patient?.balance).toEqual(balance);
    expect((await probe(child.url, 'readyz')).status).toBe(200);
    expect(child.proc.exitCode).toBeNull();
  });

  // Last: it ends the child.
  test('SIGTERM with a request in flight and a subscriber connected: the request completes, the socket closes with 1001, exit 0', async () => {
    let exited = false;
    void child.exit.then(() => (exited = true));
    const locker = new PgClient({ connectionString: db.url });
    let client: WsClient | null = null;
    try {
      const { patientId, lineId } = await childLine(child.url, token);

      let closeCode: number | null = null;
      client = createClient({
        url: child.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
        on: { closed: (event) => (closeCode = (event as { code: number }).code) },
      });
      const stream = watchPatient(client, patientId);
      await waitFor(() => stream.items.length >= 1, () => 'the current balance');

      // Hold the patient's row lock so the write-off waits inside its transaction: a request in flight.
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM patients WHERE id = $1 FOR UPDATE', [patientId]);
      const inFlight = post(child.url, token, ScaleWriteOffDocument, { input: { responsibilityId: lineId, amountCents: 2_500, reason: 'BAD_DEBT' } });
      const watcher = new PgClient({ connectionString: PG_ADMIN_URL });
      await watcher.connect();
      try {
        await waitFor(
          async () => (await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [db.name])).rowCount! > 0,
          () => 'the write-off to wait for the row lock',
        );
      } finally {
        await watcher.end();
      }

      const signalled = Date.now();
      child.proc.kill('SIGTERM');
      // The subscriber is told to go away (1001) while the request is still running; the process waits for it.
      await waitFor(() => closeCode !== null, () => 'the WebSocket to close');
      expect(closeCode).toBe(1001);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(exited).toBe(false);
      await locker.query('COMMIT');

      const reply = await inFlight;
      expect(reply.status).toBe(200);
      expect(reply.errors).toBeUndefined();
      expect(reply.data!.writeOff.balance).toMatchObject({ patientId, outstandingCents: 7_500, writtenOffCents: 2_500 });
      const exit = await child.exit;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(exit.stderr).toBe('');
    } finally {
      await client?.dispose();
      await locker.end().catch(() => undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 5. Migrations as a deploy step; /healthz and /readyz.

describe('npm run migrate and the probes', () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    ensureBuilt();
    db = await createScratchDatabase('ledger_scale');
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  async function appliedMigrations(): Promise<string[]> {
    const client = new PgClient({ connectionString: db.url });
    await client.connect();
    try {
      const exists = await client.query(`SELECT to_regclass('public.migrations') AS t`);
      if (!exists.rows[0].t) return [];
      return (await client.query('SELECT name FROM migrations ORDER BY id')).rows.map((row) => row.name as string);
    } finally {
      await client.end();
    }
  }

  test('migrate-cli applies the migrations to a fresh database and exits 0, even when two deploys run it at once', async () => {
    expect(await appliedMigrations()).toEqual([]);
    const runs = await Promise.all([runToExit(MIGRATE, { DATABASE_URL: db.url }), runToExit(MIGRATE, { DATABASE_URL: db.url })]);
    for (const run of runs) {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/migrations applied/);
    }
    expect(await appliedMigrations()).toEqual(MIGRATIONS.postgres.map((migration) => migration.name));
  });

  test('a server started afterwards finds nothing pending; /healthz 200 and /readyz 200 with every dependency', async () => {
    const applied = await appliedMigrations();
    expect(applied).toHaveLength(MIGRATIONS.postgres.length);
    const server = await startTestServer({ instances: 1, env: { DATABASE_URL: db.url, REDIS_URL } });
    try {
      const instance = server.instances[0];
      expect(await instance.services.db.pendingMigrations()).toBe(false);
      // The server builds no entity metadata: the schema check opens a connection of its own with the entities.
      const schema = await Database.connect({ kind: 'postgres', url: db.url }, { migrate: false, entities: ENTITIES });
      try {
        expect(await schema.schemaDrift()).toEqual([]);
      } finally {
        await schema.close();
      }
      expect(await appliedMigrations()).toEqual(applied);
      const health = await probe(server.url, 'healthz');
      expect(health).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await probe(server.url, 'readyz');
      expect(ready).toEqual({ status: 200, body: { status: 'ready', database: true, events: true, migrations: 'applied' } });
    } finally {
      await server.stop();
    }
  });

  test('several instances starting at once on a fresh database all come up (migrations run once, under a lock)', async () => {
    const fresh = await createScratchDatabase('ledger_scale');
    try {
      const started = await Promise.allSettled([0, 1].map(() => startTestServer({ instances: 1, env: { DATABASE_URL: fresh.url, REDIS_URL } })));
      try {
        expect(started.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(['ok', 'ok']);
      } finally {
        await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
      }
      const client = new PgClient({ connectionString: fresh.url });
      await client.connect();
      const rows = (await client.query('SELECT name FROM migrations ORDER BY id')).rows.map((row) => row.name);
      await client.end();
      expect(rows).toEqual(MIGRATIONS.postgres.map((migration) => migration.name));
    } finally {
      await fresh.drop();
    }
  });
});
