/**
 * `npm run bench`: the goals of the write path (docs/operations.md §6), each a ratio against a baseline measured in
 * the same run, on SQLite (WAL, synchronous=FULL) unless said otherwise.
 *   (a) P1, P4: write-off mutations per second at concurrency 1 and 16, beside raw sqlite3 committing the same three
 *       rows (write-off, audit event, patient balance update) in one transaction per write-off, same pragmas, its own
 *       temp file; server CPU ms and TypeORM-counted SQL statements per write-off
 *   (b) P2: a patient-with-50-charges screen query per second, beside a plain JSON route serving the same data from
 *       the same database file with raw SQL
 *   (c) SQL statements one such query runs for patients with 1, 10 and 50 charges: must not grow (else exit 1)
 *   (d) P8: median write-off latency at concurrency 1 on a patient with 5,000 ledger rows (built through the API in
 *       setup), beside a fresh patient, interleaved one by one
 *   (e) the first write-off on the big patient after a server restart, beside the first on a small patient
 *   (f) PostgreSQL: write-offs per second at concurrency 16 over 16 patients, beside concurrency 1 (skipped when
 *       PostgreSQL is not reachable)
 *   (g) SQL statements inside one writeOff's unit of work (unitStatements): at most 6 (else exit 1)
 * and a summary table to paste into the README. A missed ratio prints MISS; only failed requests, a JSON route that
 * does not match, statements that grow with the data and a broken statement budget make the exit code 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BALANCE_FIELDS,
  Child,
  GraphQLHttp,
  HttpClient,
  LoadResult,
  PG_ADMIN_URL,
  ROUNDS,
  WriteOffRound,
  WriteOffSupply,
  closedLoop,
  cpus,
  createCharge,
  createPatient,
  fmt,
  header,
  inBatches,
  main,
  median,
  now,
  percentile,
  postgresSettings,
  printTable,
  ratio,
  reachable,
  recordPayment,
  rounds,
  serverEnv,
  spread,
  startServerProcess,
  tempDir,
  token,
  writeOff,
  writeOffProblem,
  writeOffRound,
} from './common';
import { createScratchDatabase } from '../test/scratch-postgres';
import { MAX_ALLOCATIONS_PER_PAYMENT, MAX_LINES_PER_CHARGE } from '../src/ledger/limits';
import type { UnitStatements } from '../src/ledger-store/unit-statistics';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 2500);
const MAX_OPS = 200_000;
const WRITE_CONCURRENCIES = [1, 16];
const WRITE_PATIENTS = 64;
/** Room for write-offs on each load patient: more than the fastest rounds take (a line holds 20). */
const WRITE_OFFS_PER_PATIENT = 800;
const READ_CONCURRENCY = 8;
/** The big patient of P8: at least this many ledger rows (charges, lines, write-offs, payments, allocations). */
const BIG_ROWS = 5_000;
const BIG_CHARGES = 50;
const BIG_WRITE_OFFS_PER_LINE = 2;
const BIG_LINE_CENTS = 20_000;
/** Write-offs per patient per P8 round (fewer when the round's time is up first): a fresh patient stays small. */
const P8_WRITE_OFFS = 150;
/** Write-offs that warm a restarted server (JIT, auth, caches) before its first write-off on the measured patients. */
const RESTART_WARM_UP = 20;
const PG_PATIENTS = 16;
/** Statements one writeOff may run inside its unit of work (docs/operations.md §6). */
const WRITE_OFF_STATEMENT_BUDGET = 6;

const PATIENT_SCREEN = `query($id: ID!) {
  patient(id: $id) {
    id firstName lastName
    balance { ${BALANCE_FIELDS} }
    charges(first: 50) {
      edges { node {
        id serviceDate procedureCode billedCents openCents
        responsibilities {
          id kind origin status amountCents paidCents writtenOffCents openCents
          canWriteOff { allowed code message }
          writeOffs { id amountCents activeCents reason createdAt }
        }
      } }
    }
  }
}`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const serviceDay = (i: number) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10);

/** A patient whose screen has `charges` charges of 2 lines each, 2 write-offs of $1 per line, and a payment on some lines. */
async function screenPatient(api: GraphQLHttp, charges: number, name: string): Promise<string> {
  const patientId = await createPatient(api, name);
  const lines: string[] = [];
  await inBatches(range(charges), 8, async (i) => lines.push(...(await createCharge(api, patientId, [5_000, 7_500], serviceDay(i), 20_000))));
  await inBatches([...lines, ...lines], 8, (line) => writeOff(api, line, 100));
  const paid = lines.filter((_, i) => i % 3 === 0).slice(0, 10);
  await recordPayment(api, patientId, paid.map((responsibilityId) => ({ responsibilityId, amountCents: 1_000 })), 500);
  return patientId;
}

/**
 * The P8 patient, built through the API: charges of MAX_LINES_PER_CHARGE lines, BIG_WRITE_OFFS_PER_LINE 1-cent
 * write-offs on every line, then payments of MAX_ALLOCATIONS_PER_PAYMENT allocations until BIG_ROWS ledger rows.
 * Its lines keep plenty open for the measured 1-cent write-offs.
 */
async function bigPatient(api: GraphQLHttp): Promise<{ supply: WriteOffSupply; rows: number; detail: string }> {
  const patientId = await createPatient(api, 'Big');
  const lines: string[] = [];
  await inBatches(range(BIG_CHARGES), 8, async (i) =>
    lines.push(...(await createCharge(api, patientId, Array(MAX_LINES_PER_CHARGE).fill(BIG_LINE_CENTS), serviceDay(i), MAX_LINES_PER_CHARGE * BIG_LINE_CENTS))),
  );
  for (let k = 0; k < BIG_WRITE_OFFS_PER_LINE; k++) await inBatches(lines, 8, (line) => writeOff(api, line));
  let rows = BIG_CHARGES * (1 + MAX_LINES_PER_CHARGE) + lines.length * BIG_WRITE_OFFS_PER_LINE;
  const payments = Math.max(0, Math.ceil((BIG_ROWS - rows) / (1 + MAX_ALLOCATIONS_PER_PAYMENT)));
  await inBatches(range(payments), 4, (p) =>
    recordPayment(
      api,
      patientId,
      range(MAX_ALLOCATIONS_PER_PAYMENT).map((j) => ({ responsibilityId: lines[(p * MAX_ALLOCATIONS_PER_PAYMENT + j) % lines.length], amountCents: 100 })),
    ),
  );
  rows += payments * (1 + MAX_ALLOCATIONS_PER_PAYMENT);
  return {
    supply: new WriteOffSupply([lines], BIG_WRITE_OFFS_PER_LINE),
    rows,
    detail: `${BIG_CHARGES} charges × ${MAX_LINES_PER_CHARGE} lines, ${BIG_WRITE_OFFS_PER_LINE} write-offs on every line, ${payments} payments × ${MAX_ALLOCATIONS_PER_PAYMENT} allocations`,
  };
}

/** One write-off from `supply`, timed from request to answer. */
async function timedWriteOff(api: GraphQLHttp, supply: WriteOffSupply): Promise<{ ms: number; problem: string | null }> {
  const t0 = now();
  const problem = writeOffProblem(await api.post(supply.take()));
  return { ms: now() - t0, problem };
}

/** JSON with object keys sorted, so two answers compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function p50(result: LoadResult): number {
  return percentile(result.latenciesMs, 50);
}

/** Median of one write-off metric over the measured rounds. */
const medianOf = (measured: WriteOffRound[], pick: (r: WriteOffRound) => number) => median(measured.map(pick));

/** The writeOff entry of a server's unitStatements; null until the write path records it. */
async function writeOffUnits(server: Child): Promise<UnitStatements | null> {
  return (await server.call<Record<string, UnitStatements>>('unitStatements')).writeOff ?? null;
}

main(async (cleanup) => {
  header('Ledger benchmark: the write-path goals over HTTP (SQLite, WAL, synchronous=FULL; PostgreSQL when reachable)');
  const dir = tempDir('ledger');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'ledger.sqlite');
  const sqliteEnv = serverEnv(dir, `sqlite:${dbPath}`);
  const practice = 'bench-practice';
  const bearer = await token(practice);

  let graphql = await startServerProcess('graphql-server', 'graphql', {}, sqliteEnv);
  cleanup(() => graphql.child.stop());
  const raw = await startServerProcess('raw-sqlite', 'raw-sqlite', { dir, schemaFrom: dbPath });
  cleanup(() => raw.child.stop());
  let api = new GraphQLHttp(graphql.url, bearer, 32);
  cleanup(() => api.close());

  let failures = 0;
  /** Counts failed requests of some loads and shows the first. */
  const countFailed = (what: string, loads: LoadResult[]) => {
    const failed = loads.reduce((n, l) => n + l.failed, 0);
    failures += failed;
    if (failed) console.log(`  ${what}: ${failed} failed, first: ${loads.find((l) => l.firstFailure)?.firstFailure}`);
  };

  // ------------------------------------------------------------------------------------------------ setup (not timed)
  const writeSupply = await WriteOffSupply.create(api, { patients: WRITE_PATIENTS, writeOffs: WRITE_OFFS_PER_PATIENT, name: 'Writer' });
  const screens = { 1: await screenPatient(api, 1, 'Screen1'), 10: await screenPatient(api, 10, 'Screen10'), 50: await screenPatient(api, 50, 'Screen50') };
  const bigStarted = now();
  const big = await bigPatient(api);
  const bigSetupS = (now() - bigStarted) / 1000;
  // One fresh patient per P8 round (warm-up included), one to warm the restarted server, one never written to before.
  const fresh: WriteOffSupply[] = [];
  for (let i = 0; i < ROUNDS + 2; i++) fresh.push(await WriteOffSupply.create(api, { patients: 1, writeOffs: P8_WRITE_OFFS + RESTART_WARM_UP, name: `Fresh${i}` }));
  const pragmas = await raw.child.call<{ journal_mode: string; synchronous: number }>('pragmas');
  console.log(`setup: ${WRITE_PATIENTS} patients with room for ${fmt(writeSupply.capacity, 0)} 1-cent write-offs; screen patients with 1, 10, 50 charges`);
  console.log(`setup: big patient with ${fmt(big.rows, 0)} ledger rows (${big.detail}), built in ${fmt(bigSetupS, 1)} s; ${fresh.length} fresh patients of 1 charge × ${MAX_LINES_PER_CHARGE} lines`);
  console.log(`raw baseline pragmas: journal_mode=${pragmas.journal_mode}, synchronous=${pragmas.synchronous} (2 = FULL); round length ${ROUND_MS} ms`);

  // ------------------------------------------------------------------------------------------ (a) P1, P4: write-offs
  let roundsLeft = WRITE_CONCURRENCIES.length * (ROUNDS + 1);
  const writes = new Map<number, { gql: WriteOffRound; base: LoadResult; baseCpuPerOp: number }[]>();
  for (const concurrency of WRITE_CONCURRENCIES) {
    const measured = await rounds(async () => {
      const gql = await writeOffRound(graphql.child, api, writeSupply, { concurrency, durationMs: ROUND_MS, roundsLeft: roundsLeft-- });
      await raw.child.call('cpu');
      const base = await raw.child.call<LoadResult>('writeOffs', { concurrency, durationMs: ROUND_MS, maxOps: MAX_OPS });
      const baseCpu = await raw.child.call<number>('cpu');
      return { gql, base, baseCpuPerOp: baseCpu / Math.max(1, base.ok) };
    });
    countFailed(`write-offs at concurrency ${concurrency}`, measured.flatMap((r) => [r.gql.load, r.base]));
    writes.set(concurrency, measured);
  }
  const gqlRate = (c: number) => median(writes.get(c)!.map((r) => r.gql.load.perSecond));
  const rawRate = (c: number) => median(writes.get(c)!.map((r) => r.base.perSecond));
  const sqliteCpu = (c: number) => medianOf(writes.get(c)!.map((r) => r.gql), (r) => r.cpuPerOp);
  const sqliteStatements = (c: number) => medianOf(writes.get(c)!.map((r) => r.gql), (r) => r.statementsPerOp);
  const P1 = gqlRate(16) / rawRate(16);
  const P4 = gqlRate(16) / gqlRate(1);
  printTable(
    '(a) P1, P4: write-off mutations per second, GraphQL over HTTP vs raw sqlite3 committing the same rows',
    ['concurrency', 'GraphQL writeOff/s', 'GraphQL p50 ms', 'server CPU ms/op', 'SQL statements/op', 'raw sqlite3 txn/s', 'raw CPU ms/op', 'ratio GraphQL/raw'],
    WRITE_CONCURRENCIES.map((c) => {
      const measured = writes.get(c)!;
      return [
        `c=${c}`,
        spread(measured.map((r) => r.gql.load.perSecond), 0),
        fmt(median(measured.map((r) => p50(r.gql.load))), 2),
        fmt(sqliteCpu(c), 2),
        fmt(sqliteStatements(c), 1),
        spread(measured.map((r) => r.base.perSecond), 0),
        fmt(median(measured.map((r) => r.baseCpuPerOp)), 3),
        ratio(gqlRate(c), rawRate(c), 3),
      ];
    }),
    [
      `P1 = GraphQL/raw at c=16: ${ratio(gqlRate(16), rawRate(16), 3)}; P4 = GraphQL c=16 / c=1: ${ratio(gqlRate(16), gqlRate(1), 2)}.`,
      "raw: BEGIN; INSERT write_offs; INSERT audit_events; UPDATE patients (balance, version); COMMIT — one connection, one commit per write-off, transactions queued like the server's writer.",
      `GraphQL: the whole writeOff mutation over keep-alive HTTP (auth, validation, the ledger, its writes, the payload), 1 cent each over ${WRITE_PATIENTS} patients, consecutive ones on different patients.`,
      'SQL statements/op: what the TypeORM logger counts per write-off, transaction control included.',
    ],
  );

  // ---------------------------------------------------------------------------------------- (b) P2: the patient screen
  const json = await startServerProcess('json-route', 'json-route', { dbPath });
  cleanup(() => json.child.stop());
  const jsonHttp = new HttpClient(json.url, 32);
  cleanup(() => jsonHttp.close());
  const hello = await startServerProcess('hello', 'hello', {});
  cleanup(() => hello.child.stop());
  const helloHttp = new HttpClient(hello.url, 32);
  cleanup(() => helloHttp.close());
  const screenBody = GraphQLHttp.body(PATIENT_SCREEN, { id: screens[50] });
  const jsonPath = `/patients/${screens[50]}?practice=${practice}`;
  // The baseline must answer with exactly the data the GraphQL query returns.
  const fromGraphQL = JSON.parse((await api.post(screenBody)).body);
  const fromJson = JSON.parse((await jsonHttp.request('GET', jsonPath)).body);
  if (canonical(fromGraphQL) !== canonical(fromJson)) {
    const file = path.join(os.tmpdir(), 'ledger-bench-mismatch.json');
    fs.writeFileSync(file, JSON.stringify({ fromGraphQL, fromJson }, null, 2));
    throw new Error(`the JSON route does not return the same data as the GraphQL query (both written to ${file})`);
  }
  const responseBytes = Buffer.byteLength(JSON.stringify(fromGraphQL));
  const reads = await rounds(async () => {
    await graphql.child.call('cpu');
    const gql = await closedLoop({
      concurrency: READ_CONCURRENCY,
      durationMs: ROUND_MS,
      maxOps: MAX_OPS,
      send: async () => {
        const res = await api.post(screenBody);
        return res.status === 200 && !res.body.includes('"errors"') ? null : res.body.slice(0, 300);
      },
    });
    const gqlCpu = await graphql.child.call<number>('cpu');
    await json.child.call('cpu');
    const base = await closedLoop({
      concurrency: READ_CONCURRENCY,
      durationMs: ROUND_MS,
      maxOps: MAX_OPS,
      send: async () => {
        const res = await jsonHttp.request('GET', jsonPath);
        return res.status === 200 ? null : `HTTP ${res.status}`;
      },
    });
    const baseCpu = await json.child.call<number>('cpu');
    const bare = await closedLoop({ concurrency: READ_CONCURRENCY, durationMs: ROUND_MS / 2, maxOps: MAX_OPS, send: async () => ((await helloHttp.request('GET', '/')).status === 200 ? null : 'not 200') });
    return { gql, base, bare, gqlCpuPerOp: gqlCpu / Math.max(1, gql.ok), baseCpuPerOp: baseCpu / Math.max(1, base.ok) };
  });
  countFailed('screen queries', reads.flatMap((r) => [r.gql, r.base]));
  const gqlReads = reads.map((r) => r.gql.perSecond);
  const baseReads = reads.map((r) => r.base.perSecond);
  const P2 = median(gqlReads) / median(baseReads);
  printTable(
    `(b) P2: patient screen (50 charges, 100 PR lines, 200 write-offs; ${fmt(responseBytes / 1024, 1)} KiB of JSON) per second at concurrency ${READ_CONCURRENCY}`,
    ['', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req'],
    [
      ['GraphQL query', spread(gqlReads, 0), fmt(median(reads.map((r) => p50(r.gql))), 2), fmt(median(reads.map((r) => percentile(r.gql.latenciesMs, 99))), 2), fmt(median(reads.map((r) => r.gqlCpuPerOp)), 2)],
      ['plain JSON route (raw SQL)', spread(baseReads, 0), fmt(median(reads.map((r) => p50(r.base))), 2), fmt(median(reads.map((r) => percentile(r.base.latenciesMs, 99))), 2), fmt(median(reads.map((r) => r.baseCpuPerOp)), 2)],
      ['P2 ratio GraphQL/JSON', ratio(median(gqlReads), median(baseReads), 3), '', '', ''],
      ['(reference) bare node:http hello world', spread(reads.map((r) => r.bare.perSecond), 0), fmt(median(reads.map((r) => p50(r.bare))), 2), fmt(median(reads.map((r) => percentile(r.bare.latenciesMs, 99))), 2), ''],
    ],
    [
      'Both answers were checked to carry identical data. The JSON route has no auth and no audit trail; the GraphQL query verifies the JWT and writes a READ audit event.',
      'The hello-world row shows what this box and load generator do with no work at all (not a baseline for the ratio).',
    ],
  );

  // ------------------------------------------------------------------------------------ (c) statements per query
  const counts: Record<number, number[]> = {};
  for (const n of [1, 10, 50] as const) {
    const body = GraphQLHttp.body(PATIENT_SCREEN, { id: screens[n] });
    await api.post(body); // warm: practice cache, prepared paths
    counts[n] = [];
    for (let i = 0; i < 3; i++) {
      const before = await graphql.child.call<number>('statements');
      const res = await api.post(body);
      if (res.status !== 200 || res.body.includes('"errors"')) throw new Error(`screen query failed: ${res.body.slice(0, 300)}`);
      counts[n].push((await graphql.child.call<number>('statements')) - before);
    }
  }
  const flat = Math.max(...counts[50]) <= Math.min(...counts[1]) && Math.max(...counts[10]) <= Math.min(...counts[1]);
  printTable(
    '(c) SQL statements one patient-screen query executes (3 tries each; TypeORM logger count, DATABASE_COUNT_QUERIES=true)',
    ['charges on the patient', 'PR lines', 'write-offs', 'statements', 'JSON route (baseline)'],
    ([1, 10, 50] as const).map((n) => [String(n), String(n * 2), String(n * 4), counts[n].join(', '), '4']),
    [flat ? 'PASS: the statement count does not grow with the number of charges.' : 'FAIL: the statement count grows with the number of charges (N+1 reads).'],
  );

  // -------------------------------------------------------------------------- (d) P8: write-off latency on a big patient
  // Interleaved one by one at concurrency 1, so both patients see the same server and machine.
  const latency = await rounds(async (round) => {
    const samples = { big: [] as number[], fresh: [] as number[] };
    const load = await closedLoop({
      concurrency: 1,
      durationMs: ROUND_MS,
      maxOps: 2 * P8_WRITE_OFFS,
      send: async (i) => {
        const { ms, problem } = await timedWriteOff(api, i % 2 === 0 ? big.supply : fresh[round]);
        (i % 2 === 0 ? samples.big : samples.fresh).push(ms);
        return problem;
      },
    });
    return { load, ...samples };
  });
  countFailed('write-offs on the big and fresh patients', latency.map((r) => r.load));
  const latencyAt = (which: 'big' | 'fresh', p: number) => median(latency.map((r) => percentile(r[which], p)));
  const P8 = latencyAt('big', 50) / latencyAt('fresh', 50);
  printTable(
    `(d) P8: write-off latency at concurrency 1, ms (up to ${P8_WRITE_OFFS} write-offs per patient per round, interleaved)`,
    ['patient', 'write-offs/round', 'p50 ms', 'p95 ms'],
    [
      [`big: ${fmt(big.rows, 0)}+ ledger rows`, fmt(median(latency.map((r) => r.big.length)), 0), fmt(latencyAt('big', 50), 2), fmt(latencyAt('big', 95), 2)],
      [`fresh: ${1 + MAX_LINES_PER_CHARGE}+ rows, a new one each round`, fmt(median(latency.map((r) => r.fresh.length)), 0), fmt(latencyAt('fresh', 50), 2), fmt(latencyAt('fresh', 95), 2)],
      ['P8 ratio big/fresh', '', ratio(latencyAt('big', 50), latencyAt('fresh', 50), 2), ratio(latencyAt('big', 95), latencyAt('fresh', 95), 2)],
    ],
    ["'+': the rows each patient had before the round; its own write-offs add one row each."],
  );
  // Read before the restart below, which starts a process with empty statistics.
  const sqliteUnits = await writeOffUnits(graphql.child);

  // --------------------------------------------------------------------- (e) the first write-off after a server restart
  await graphql.child.stop();
  api.close();
  graphql = await startServerProcess('graphql-server-restarted', 'graphql', {}, sqliteEnv);
  api = new GraphQLHttp(graphql.url, bearer, 32);
  const mustAccept = async (supply: WriteOffSupply) => {
    const { ms, problem } = await timedWriteOff(api, supply);
    if (problem) throw new Error(`write-off refused after the restart: ${problem}`);
    return ms;
  };
  for (let i = 0; i < RESTART_WARM_UP; i++) await mustAccept(fresh[0]);
  const coldFresh = await mustAccept(fresh[ROUNDS + 1]);
  const coldBig = await mustAccept(big.supply);
  const warmBig: number[] = [];
  for (let i = 0; i < RESTART_WARM_UP; i++) warmBig.push(await mustAccept(big.supply));
  printTable(
    `(e) the first write-off on a patient after a server restart, ms (1 sample each, after ${RESTART_WARM_UP} write-offs on another patient)`,
    ['patient', 'first write-off ms', `next ${RESTART_WARM_UP}, p50 ms`],
    [
      [`big: ${fmt(big.rows, 0)}+ ledger rows`, fmt(coldBig, 2), fmt(median(warmBig), 2)],
      [`small: ${1 + MAX_LINES_PER_CHARGE} rows, never written to before`, fmt(coldFresh, 2), ''],
      ['ratio big/small', ratio(coldBig, coldFresh, 2), ''],
    ],
    ['Informational (one sample): what loading a big patient costs the first write-off that needs it.'],
  );

  // ---------------------------------------------------------------------------------------------- (f) PostgreSQL
  let pgRatio = NaN;
  let pgCpu = NaN;
  let pgStatements = NaN;
  let pgUnits: UnitStatements | null = null;
  let pgSkipped: string | null = null;
  const pg = (await reachable(PG_ADMIN_URL, 5432)) ? await createScratchDatabase('ledger_bench').catch((error: Error) => error) : new Error(`nothing answers at ${PG_ADMIN_URL}`);
  if (pg instanceof Error) {
    pgSkipped = `PostgreSQL not reachable (${pg.message}); set PG_ADMIN_URL to a server where a database can be created`;
    console.log(`\n(f) PostgreSQL: SKIPPED — ${pgSkipped}`);
  } else {
    cleanup(() => pg.drop());
    const settings = await postgresSettings(pg.url);
    const pgServer = await startServerProcess('graphql-postgres', 'graphql', {}, serverEnv(dir, pg.url));
    cleanup(() => pgServer.child.stop());
    const pgApi = new GraphQLHttp(pgServer.url, bearer, 32);
    cleanup(() => pgApi.close());
    const pgSupply = await WriteOffSupply.create(pgApi, { patients: PG_PATIENTS, writeOffs: WRITE_OFFS_PER_PATIENT, name: 'PgWriter' });
    let pgRoundsLeft = WRITE_CONCURRENCIES.length * (ROUNDS + 1);
    const pgWrites = new Map<number, WriteOffRound[]>();
    for (const concurrency of WRITE_CONCURRENCIES) {
      const measured = await rounds(() => writeOffRound(pgServer.child, pgApi, pgSupply, { concurrency, durationMs: ROUND_MS, roundsLeft: pgRoundsLeft-- }));
      countFailed(`PostgreSQL write-offs at concurrency ${concurrency}`, measured.map((r) => r.load));
      pgWrites.set(concurrency, measured);
    }
    const pgRate = (c: number) => medianOf(pgWrites.get(c)!, (r) => r.load.perSecond);
    pgRatio = pgRate(16) / pgRate(1);
    pgCpu = medianOf(pgWrites.get(16)!, (r) => r.cpuPerOp);
    pgStatements = medianOf(pgWrites.get(16)!, (r) => r.statementsPerOp);
    pgUnits = await writeOffUnits(pgServer.child);
    printTable(
      `(f) PostgreSQL: write-off mutations per second over ${PG_PATIENTS} patients, concurrency 16 vs 1`,
      ['concurrency', 'writeOff/s', 'p50 ms', 'p95 ms', 'server CPU ms/op', 'SQL statements/op'],
      [
        ...WRITE_CONCURRENCIES.map((c) => {
          const measured = pgWrites.get(c)!;
          return [
            `c=${c}`,
            spread(measured.map((r) => r.load.perSecond), 0),
            fmt(medianOf(measured, (r) => percentile(r.load.latenciesMs, 50)), 2),
            fmt(medianOf(measured, (r) => percentile(r.load.latenciesMs, 95)), 2),
            fmt(medianOf(measured, (r) => r.cpuPerOp), 2),
            fmt(medianOf(measured, (r) => r.statementsPerOp), 1),
          ];
        }),
        ['ratio c=16 / c=1', ratio(pgRate(16), pgRate(1), 2), '', '', '', ''],
      ],
      [`${settings}, throwaway database, not pinned; the server's pool as configured.`, 'server CPU counts the Node process only (not the PostgreSQL backends).'],
    );
  }

  // --------------------------------------------------------------------------- (g) statements in a writeOff's unit
  const budgetRow = (database: string, units: UnitStatements | null, typeorm: string) => {
    const over = units !== null && units.max > WRITE_OFF_STATEMENT_BUDGET;
    const result = units === null ? 'n/a (not recorded)' : over ? 'FAIL' : 'PASS';
    return { over, units, row: [database, typeorm, units ? fmt(units.statements / units.units, 2) : 'n/a', units ? String(units.max) : 'n/a', units ? fmt(units.units, 0) : 'n/a', `≤ ${WRITE_OFF_STATEMENT_BUDGET}`, result] };
  };
  const budgets = [
    budgetRow('SQLite', sqliteUnits, `${fmt(sqliteStatements(1), 1)} / ${fmt(sqliteStatements(16), 1)} (c=1 / c=16)`),
    ...(pgSkipped ? [] : [budgetRow('PostgreSQL', pgUnits, `${fmt(pgStatements, 1)} (c=16)`)]),
  ];
  const overBudget = budgets.some((b) => b.over);
  printTable(
    '(g) SQL statements of one writeOff: inside its unit of work (unitStatements) and all the TypeORM logger counts per write-off',
    ['database', 'TypeORM statements/op', 'unit statements/unit', 'max in one unit', 'units', 'budget', 'result'],
    budgets.map((b) => b.row),
    ['unitStatements leaves out the SAVEPOINT/RELEASE around a unit and the shared BEGIN/COMMIT; the TypeORM count has every statement the process ran.'],
  );

  // ------------------------------------------------------------------------------------------------------- summary
  const verdict = (value: number, met: boolean) => (Number.isFinite(value) ? (met ? 'PASS' : 'MISS') : 'n/a');
  printTable(
    `Summary (${new Date().toISOString().slice(0, 10)}; ${cpus()}; server on CPU 0, load on CPU 1; ${ROUND_MS} ms rounds, median of ${ROUNDS})`,
    ['goal', 'measured', 'target', 'result'],
    [
      ['P1 writeOff/s at c=16 ÷ raw sqlite3, one commit per write', `${fmt(P1, 2)}× (${fmt(gqlRate(16), 0)} / ${fmt(rawRate(16), 0)})`, '≥ 0.5 (aim 1.0)', verdict(P1, P1 >= 0.5)],
      ['P4 writeOff/s at c=16 ÷ at c=1', `${fmt(P4, 2)}× (${fmt(gqlRate(16), 0)} / ${fmt(gqlRate(1), 0)})`, '≥ 2', verdict(P4, P4 >= 2)],
      [`P8 p50 write-off latency, ${fmt(big.rows, 0)}-row patient ÷ fresh patient`, `${fmt(P8, 2)}× (${fmt(latencyAt('big', 50), 2)} / ${fmt(latencyAt('fresh', 50), 2)} ms)`, '≤ 1.2', verdict(P8, P8 <= 1.2)],
      ['P2 patient screen/s ÷ plain JSON route', `${fmt(P2, 2)}× (${fmt(median(gqlReads), 0)} / ${fmt(median(baseReads), 0)})`, '≥ 0.5', verdict(P2, P2 >= 0.5)],
      [
        `PostgreSQL writeOff/s at c=16 (${PG_PATIENTS} patients) ÷ at c=1`,
        pgSkipped ? 'skipped (PostgreSQL not reachable)' : `${fmt(pgRatio, 2)}×`,
        '≥ 2',
        pgSkipped ? 'n/a' : verdict(pgRatio, pgRatio >= 2),
      ],
      [
        `writeOff SQL statements in one unit, max (${budgets.map((b) => b.row[0]).join(' / ')})`,
        budgets.map((b) => b.row[3]).join(' / '),
        `≤ ${WRITE_OFF_STATEMENT_BUDGET}`,
        overBudget ? 'FAIL' : budgets.every((b) => b.units) ? 'PASS' : 'n/a (not recorded)',
      ],
      ['server CPU ms per write-off: SQLite c=1 / c=16 / PostgreSQL c=16', `${fmt(sqliteCpu(1), 2)} / ${fmt(sqliteCpu(16), 2)} / ${fmt(pgCpu, 2)}`, '(for comparison)', ''],
      ['first write-off after restart, big ÷ small patient (1 sample)', `${fmt(coldBig / coldFresh, 2)}× (${fmt(coldBig, 1)} / ${fmt(coldFresh, 1)} ms)`, '(for comparison)', ''],
    ],
  );

  const problems = [
    !flat && 'the screen query runs more statements for bigger patients',
    failures > 0 && `${failures} requests failed`,
    overBudget && `a writeOff ran more than ${WRITE_OFF_STATEMENT_BUDGET} statements inside its unit`,
  ].filter(Boolean);
  if (problems.length) {
    console.log(`\nFAIL: ${problems.join('; ')}`);
    return 1;
  }
  return 0;
});
