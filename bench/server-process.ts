/**
 * One benchmark server in its own process (forked and pinned by the benchmarks; not run directly). `start` picks what
 * it is:
 *   graphql     the real server (startServer) configured from this process's environment; reports each published
 *               balance event (the commit moment) when asked, counts SQL statements (DATABASE_COUNT_QUERIES) and
 *               hands out the statements each mutation ran inside its unit of work (unitStatements)
 *   json-route  baseline: a plain node:http route answering the patient screen's data from the same SQLite file with
 *               raw SQL (sqlite3 directly) and the project's pure ledger rules
 *   raw-sqlite  baseline: raw sqlite3 committing a write-off's rows (write-off, audit event, patient balance update) in
 *               one transaction per write-off, on its own temp file with the server's pragmas
 *   ws          baseline: a plain `ws` WebSocketServer that broadcasts one JSON payload to every socket
 *   hello       reference: bare node:http answering a constant JSON body (what this box does with no work at all)
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import sqlite3 from 'sqlite3';
import { WebSocketServer } from 'ws';
import type { BalanceEvent } from '../src/balances/balance-event';
import { closedLoop, emit, now, serveParent, settledMemory } from './common';

// The server's modules are loaded only in the modes that use them, so a baseline process stays as small as it is.
let statementCount = { value: 0 };

let stopCurrent: () => Promise<void> = async () => undefined;
let cpuMark = process.cpuUsage();

const handlers: Record<string, (args: any) => unknown> = {
  async start(args: { mode: string } & Record<string, unknown>) {
    switch (args.mode) {
      case 'graphql':
        return startGraphQL();
      case 'json-route':
        return startJsonRoute(String(args.dbPath));
      case 'raw-sqlite':
        return startRawSqlite(String(args.dir), String(args.schemaFrom));
      case 'ws':
        return startWsBroadcaster();
      case 'hello':
        return startHello();
      default:
        throw new Error(`unknown mode ${args.mode}`);
    }
  },
  memory: async () => settledMemory(),
  /** CPU milliseconds (user + system) this process used since the last call. */
  cpu() {
    const used = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    return (used.user + used.system) / 1000;
  },
  statements: () => statementCount.value,
};

// ------------------------------------------------------------------------------------------------------------- graphql

async function startGraphQL() {
  const { loadConfig } = require('../src/config') as typeof import('../src/config');
  const { startServer } = require('../src/server') as typeof import('../src/server');
  statementCount = (require('../src/db/data-source') as typeof import('../src/db/data-source')).statementCount;
  const { unitStatements } = require('../src/ledger-store/unit-statistics') as typeof import('../src/ledger-store/unit-statistics');
  handlers.unitStatements = () => Object.fromEntries(unitStatements);
  const config = loadConfig(process.env, process.env.DATA_DIR ?? process.cwd());
  const server = await startServer(config);
  stopCurrent = () => server.stop();
  const bus = server.services.bus;
  const publish = bus.publish.bind(bus);
  let report = false;
  // The moment a committed balance is handed to the publisher: what "commit → delivery" is measured from.
  bus.publish = (event: BalanceEvent) => {
    const t = now();
    publish(event);
    if (report) emit('published', { patientId: event.patientId, version: event.version, t });
  };
  handlers.reportPublished = (on: boolean) => void (report = on);
  return { url: server.url };
}

// ---------------------------------------------------------------------------------------------------------- json-route

type Row = Record<string, any>;

function all(db: sqlite3.Database, sql: string, params: unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as Row[]))));
}

function run(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
}

function openSqlite(file: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, mode, (error) => (error ? reject(error) : resolve(db)));
  });
}

/** Ledger order, as the server's reader sorts lines and write-offs. */
const bySequence = (a: Row, b: Row) => Number(a.sequence) - Number(b.sequence);

type Rules = typeof import('../src/ledger') & typeof import('../src/read-model/ledger-reader');

/** The patient screen's data (the same fields the benchmark's GraphQL query asks for), straight from SQL. */
async function patientScreen(rules: Rules, db: sqlite3.Database, practiceId: string, patientId: string): Promise<unknown> {
  const scope = [practiceId, patientId];
  const [patients, charges, lines, writeOffs] = await Promise.all([
    all(db, 'SELECT * FROM patients WHERE practice_id = ? AND id = ?', scope),
    all(db, 'SELECT * FROM charges WHERE practice_id = ? AND patient_id = ? ORDER BY service_date DESC, id DESC LIMIT 50', scope),
    all(
      db,
      `SELECT r.id, r.charge_id, r.sequence, r.kind, r.origin, r.status, r.amount_cents,
         (SELECT COALESCE(SUM(a.amount_cents), 0) FROM allocations a WHERE a.responsibility_id = r.id) AS allocated,
         (SELECT COALESCE(SUM(x.amount_cents), 0) FROM allocation_reductions x WHERE x.responsibility_id = r.id) AS reduced,
         (SELECT COALESCE(SUM(w.amount_cents), 0) FROM write_offs w WHERE w.responsibility_id = r.id) AS written,
         (SELECT COALESCE(SUM(v.amount_cents), 0) FROM write_off_reversals v WHERE v.responsibility_id = r.id) AS reversed
       FROM responsibilities r WHERE r.practice_id = ? AND r.patient_id = ?`,
      scope,
    ),
    all(
      db,
      `SELECT w.id, w.responsibility_id, w.sequence, w.amount_cents, w.reason, w.created_at,
         (SELECT COALESCE(SUM(v.amount_cents), 0) FROM write_off_reversals v WHERE v.write_off_id = w.id) AS reversed
       FROM write_offs w WHERE w.practice_id = ? AND w.patient_id = ?`,
      scope,
    ),
  ]);
  const p = patients[0];
  if (!p) return { data: { patient: null } };
  const writeOffsOf = new Map<string, Row[]>();
  for (const w of writeOffs.sort(bySequence)) writeOffsOf.set(w.responsibility_id, [...(writeOffsOf.get(w.responsibility_id) ?? []), w]);
  const linesOf = new Map<string, Row[]>();
  for (const r of lines.sort(bySequence)) linesOf.set(r.charge_id, [...(linesOf.get(r.charge_id) ?? []), r]);
  return {
    data: {
      patient: {
        id: p.id,
        firstName: p.first_name,
        lastName: p.last_name,
        balance: {
          patientId: p.id,
          outstandingCents: Number(p.outstanding_cents),
          responsibilityCents: Number(p.responsibility_cents),
          paidCents: Number(p.paid_cents),
          writtenOffCents: Number(p.written_off_cents),
          creditCents: Number(p.credit_cents),
          version: Number(p.version),
          updatedAt: p.balance_updated_at,
        },
        charges: {
          edges: charges.map((c) => {
            const states = (linesOf.get(c.id) ?? []).map((r) => ({
              row: r,
              state: {
                id: r.id,
                chargeId: r.charge_id,
                kind: r.kind,
                origin: r.origin,
                status: r.status,
                amountCents: Number(r.amount_cents),
                paidCents: Number(r.allocated) - Number(r.reduced),
                writtenOffCents: Number(r.written) - Number(r.reversed),
              },
            }));
            return {
              node: {
                id: c.id,
                serviceDate: c.service_date,
                procedureCode: c.procedure_code,
                billedCents: Number(c.billed_cents),
                openCents: rules.chargeOpenCents(states.map((s) => s.state) as never),
                responsibilities: states.map(({ state }) => ({
                  id: state.id,
                  kind: state.kind,
                  origin: state.origin,
                  status: state.status,
                  amountCents: state.amountCents,
                  paidCents: state.paidCents,
                  writtenOffCents: state.writtenOffCents,
                  openCents: rules.openCents(state),
                  canWriteOff: rules.toAvailability(rules.writeOffBlocker(state, true)),
                  writeOffs: (writeOffsOf.get(state.id) ?? []).map((w) => ({
                    id: w.id,
                    amountCents: Number(w.amount_cents),
                    activeCents: Number(w.amount_cents) - Number(w.reversed),
                    reason: w.reason,
                    createdAt: w.created_at,
                  })),
                })),
              },
            };
          }),
        },
      },
    },
  };
}

async function startJsonRoute(dbPath: string) {
  const rules: Rules = { ...(require('../src/ledger') as typeof import('../src/ledger')), ...(require('../src/read-model/ledger-reader') as typeof import('../src/read-model/ledger-reader')) };
  const db = await openSqlite(dbPath, sqlite3.OPEN_READONLY);
  await run(db, 'PRAGMA busy_timeout = 5000');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/patients\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      res.writeHead(404).end();
      return;
    }
    patientScreen(rules, db, url.searchParams.get('practice') ?? '', decodeURIComponent(match[1])).then(
      (body) => {
        const json = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
      },
      () => res.writeHead(500).end(),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stopCurrent = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => db.close(resolve));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// ---------------------------------------------------------------------------------------------------------- raw-sqlite

/** The tables a write-off writes, copied (columns, indexes, triggers) from the server's migrated database. */
async function schemaOf(dbPath: string): Promise<string[]> {
  const source = await openSqlite(dbPath, sqlite3.OPEN_READONLY);
  try {
    const rows = await all(
      source,
      `SELECT sql FROM sqlite_master WHERE tbl_name IN ('patients', 'write_offs', 'audit_events') AND sql IS NOT NULL
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END`,
      [],
    );
    if (rows.length < 3) throw new Error(`no ledger schema in ${dbPath}`);
    return rows.map((r) => String(r.sql));
  } finally {
    await new Promise((resolve) => source.close(resolve));
  }
}

async function startRawSqlite(dir: string, schemaFrom: string) {
  const schema = await schemaOf(schemaFrom);
  const db = await openSqlite(path.join(dir, 'raw-baseline.sqlite'), sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE);
  // The server's pragmas: WAL (TypeORM enableWAL), synchronous FULL, busy_timeout 5000.
  for (const pragma of ['PRAGMA journal_mode = WAL', 'PRAGMA synchronous = FULL', 'PRAGMA busy_timeout = 5000']) await run(db, pragma);
  for (const statement of schema) await run(db, statement);
  const practiceId = 'raw-practice';
  const patients = Array.from({ length: 64 }, () => crypto.randomUUID());
  const lines = patients.map(() => crypto.randomUUID());
  const versions = new Map(patients.map((id) => [id, 0]));
  const stamp = new Date().toISOString();
  for (const id of patients) {
    await run(
      db,
      `INSERT INTO patients (id, practice_id, first_name, last_name, version, responsibility_cents, paid_cents, written_off_cents, outstanding_cents,
         credit_cents, balance_updated_at, created_at, created_by) VALUES (?, ?, 'Raw', 'Baseline', 0, 10000000, 0, 0, 10000000, 0, ?, ?, 'bench')`,
      [id, practiceId, stamp, stamp],
    );
  }
  // One connection, one transaction at a time (a FIFO queue), like the server's SQLite writer.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const writeOff = (i: number) =>
    exclusive(async () => {
      const patientId = patients[i % patients.length];
      const version = versions.get(patientId)! + 1;
      const at = new Date().toISOString();
      const writeOffId = crypto.randomUUID();
      await run(db, 'BEGIN');
      try {
        await run(
          db,
          `INSERT INTO write_offs (id, practice_id, patient_id, sequence, responsibility_id, amount_cents, reason, custom_reason, note, batch_id, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, 1, 'SMALL_BALANCE', NULL, NULL, NULL, ?, 'bench')`,
          [writeOffId, practiceId, patientId, version * 100_000, lines[i % lines.length], at],
        );
        await run(
          db,
          `INSERT INTO audit_events (id, practice_id, occurred_at, operation, outcome, code, patient_id, entity_ids, actor_id, actor_role, request_id)
           VALUES (?, ?, ?, 'writeOff', 'ACCEPTED', NULL, ?, ?, 'bench', 'BILLING_MANAGER', ?)`,
          [crypto.randomUUID(), practiceId, at, patientId, JSON.stringify([writeOffId, lines[i % lines.length]]), crypto.randomUUID()],
        );
        await run(
          db,
          `UPDATE patients SET version = ?, written_off_cents = written_off_cents + 1, outstanding_cents = outstanding_cents - 1, balance_updated_at = ?
           WHERE id = ? AND practice_id = ?`,
          [version, at, patientId, practiceId],
        );
        await run(db, 'COMMIT');
        versions.set(patientId, version);
      } catch (error) {
        await run(db, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  handlers.writeOffs = async (args: { concurrency: number; durationMs: number; maxOps: number }) => {
    const result = await closedLoop({ ...args, send: async (i) => (await writeOff(i), null) });
    return { ...result, latenciesMs: [] };
  };
  handlers.pragmas = async () => ({
    journal_mode: (await all(db, 'PRAGMA journal_mode', []))[0]?.journal_mode,
    synchronous: (await all(db, 'PRAGMA synchronous', []))[0]?.synchronous,
  });
  stopCurrent = () => new Promise((resolve) => db.close(() => resolve()));
  return { url: '' };
}

// ------------------------------------------------------------------------------------------------------------------ ws

async function startWsBroadcaster() {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 64 * 1024 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  handlers.sockets = () => wss.clients.size;
  /** Sends the same payload to every socket; returns when the sends were handed to the sockets, with the start time. */
  handlers.broadcast = (args: { payload: string }) => {
    const t0 = now();
    for (const socket of wss.clients) socket.send(args.payload);
    return { t0 };
  };
  stopCurrent = async () => {
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => server.close(resolve));
  };
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws` };
}

// --------------------------------------------------------------------------------------------------------------- hello

async function startHello() {
  const body = Buffer.from('{"ok":true}');
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stopCurrent = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

serveParent(handlers, () => stopCurrent());
