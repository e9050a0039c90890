/**
 * `npm run bench`: the ledger over HTTP on SQLite (WAL, synchronous=FULL), each number beside a baseline measured in
 * the same run.
 *   (a) write-off mutations per second at concurrency 1 and 16, beside raw sqlite3 committing the same rows
 *       (write-off + audit event + patient balance update, one transaction each, same pragmas, its own temp file)
 *   (b) a patient-with-50-charges screen query per second, beside a plain JSON route serving the same data from the
 *       same database file with raw SQL
 *   (c) SQL statements one such query runs for patients with 1, 10 and 50 charges: must not grow (else exit 1)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BALANCE_FIELDS,
  GraphQLHttp,
  HttpClient,
  LoadResult,
  closedLoop,
  createCharge,
  createPatient,
  fmt,
  header,
  main,
  percentile,
  printTable,
  ratio,
  rounds,
  serverEnv,
  spread,
  startServerProcess,
  median,
  tempDir,
  token,
  writeOffBody,
  writeOffProblem,
} from './common';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 2500);
const MAX_OPS = 200_000;
const WRITE_PATIENTS = 64;
const LINES_PER_WRITE_PATIENT = 4;

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
const RECORD_PAYMENT = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } userErrors { code message } } }`;
const WRITE_OFF_100 = `mutation($input: WriteOffInput!) { writeOff(input: $input) { writeOff { id } userErrors { code message } } }`;

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j)));
}

/** A patient whose screen has `charges` charges of 2 lines each, 2 write-offs per line, and payments on some lines. */
async function screenPatient(api: GraphQLHttp, charges: number, name: string): Promise<string> {
  const patientId = await createPatient(api, name);
  const lines: string[] = [];
  await inBatches(
    Array.from({ length: charges }, (_, i) => i),
    8,
    async (i) => {
      const day = new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10);
      lines.push(...(await createCharge(api, patientId, [5_000, 7_500], day, 20_000)));
    },
  );
  await inBatches([...lines, ...lines], 8, (line) =>
    api.ok(WRITE_OFF_100, { input: { responsibilityId: line, amountCents: 100, reason: 'SMALL_BALANCE' } }),
  );
  const paid = lines.filter((_, i) => i % 3 === 0).slice(0, 10);
  await api.ok(RECORD_PAYMENT, { input: { patientId, amountCents: 1_000 * paid.length + 500, method: 'CARD', allocations: paid.map((id) => ({ responsibilityId: id, amountCents: 1_000 })) } });
  return patientId;
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

main(async (cleanup) => {
  header('Ledger benchmark: write-offs and the patient screen over HTTP (SQLite, WAL, synchronous=FULL)');
  const dir = tempDir('ledger');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'ledger.sqlite');
  const practice = 'bench-practice';

  const graphql = await startServerProcess('graphql-server', 'graphql', {}, serverEnv(dir, `sqlite:${dbPath}`));
  cleanup(() => graphql.child.stop());
  const raw = await startServerProcess('raw-sqlite', 'raw-sqlite', { dir, schemaFrom: dbPath });
  cleanup(() => raw.child.stop());
  const api = new GraphQLHttp(graphql.url, await token(practice), 32);
  cleanup(() => api.close());

  // ------------------------------------------------------------------------------------------------ setup (not timed)
  const linesOfPatient: string[][] = [];
  await inBatches(
    Array.from({ length: WRITE_PATIENTS }, (_, i) => i),
    8,
    async (i) => {
      const patientId = await createPatient(api, `Writer${i}`);
      linesOfPatient[i] = await createCharge(api, patientId, Array(LINES_PER_WRITE_PATIENT).fill(10_000_000));
    },
  );
  // Consecutive requests go to different patients: every patient's first line, then every patient's second, ...
  const writeBodies = Array.from({ length: LINES_PER_WRITE_PATIENT }, (_, k) => linesOfPatient.map((lines) => writeOffBody(lines[k]))).flat();
  const screens = { 1: await screenPatient(api, 1, 'Screen1'), 10: await screenPatient(api, 10, 'Screen10'), 50: await screenPatient(api, 50, 'Screen50') };
  const pragmas = await raw.child.call<{ journal_mode: string; synchronous: number }>('pragmas');
  console.log(`setup: ${WRITE_PATIENTS} patients × ${LINES_PER_WRITE_PATIENT} lines of $100,000 for write-offs of 1 cent; screen patients with 1, 10, 50 charges`);
  console.log(`raw baseline pragmas: journal_mode=${pragmas.journal_mode}, synchronous=${pragmas.synchronous} (2 = FULL); round length ${ROUND_MS} ms`);

  // --------------------------------------------------------------------------------------------- (a) write-offs
  const writeRows: (string | number)[][] = [];
  let failures = 0;
  for (const concurrency of [1, 16]) {
    const measured = await rounds(async () => {
      await graphql.child.call('cpu');
      const statementsBefore = await graphql.child.call<number>('statements');
      const gql = await closedLoop({ concurrency, durationMs: ROUND_MS, maxOps: MAX_OPS, send: async (i) => writeOffProblem(await api.post(writeBodies[i % writeBodies.length])) });
      const gqlCpu = await graphql.child.call<number>('cpu');
      const statements = ((await graphql.child.call<number>('statements')) - statementsBefore) / Math.max(1, gql.ok + gql.failed);
      await raw.child.call('cpu');
      const base = await raw.child.call<LoadResult>('writeOffs', { concurrency, durationMs: ROUND_MS, maxOps: MAX_OPS });
      const baseCpu = await raw.child.call<number>('cpu');
      return { gql, base, statements, gqlCpuPerOp: gqlCpu / Math.max(1, gql.ok + gql.failed), baseCpuPerOp: baseCpu / Math.max(1, base.ok) };
    });
    const failed = measured.reduce((n, r) => n + r.gql.failed + r.base.failed, 0);
    failures += failed;
    if (failed) console.log(`  write-offs at concurrency ${concurrency}: ${failed} failed, first: ${measured.find((r) => r.gql.firstFailure)?.gql.firstFailure}`);
    const gqlRate = measured.map((r) => r.gql.perSecond);
    const baseRate = measured.map((r) => r.base.perSecond);
    writeRows.push([
      `c=${concurrency}`,
      spread(gqlRate, 0),
      fmt(median(measured.map((r) => p50(r.gql))), 2),
      fmt(median(measured.map((r) => r.gqlCpuPerOp)), 2),
      fmt(median(measured.map((r) => r.statements)), 1),
      spread(baseRate, 0),
      fmt(median(measured.map((r) => r.baseCpuPerOp)), 3),
      ratio(median(gqlRate), median(baseRate), 3),
    ]);
  }
  printTable(
    '(a) write-off mutations per second: GraphQL over HTTP vs raw sqlite3 committing the same rows',
    ['concurrency', 'GraphQL writeOff/s', 'GraphQL p50 ms', 'server CPU ms/op', 'SQL statements/op', 'raw sqlite3 txn/s', 'raw CPU ms/op', 'ratio GraphQL/raw'],
    writeRows,
    [
      'raw: 5 statements — BEGIN; INSERT write_offs; INSERT audit_events; UPDATE patients (balance, version); COMMIT — one connection, transactions queued like the server\'s writer.',
      'GraphQL: the whole writeOff mutation over keep-alive HTTP: auth, validation, the ledger rebuilt twice (8 reads each), the same 3 writes, the payload read back.',
    ],
  );

  // ----------------------------------------------------------------------------------------- (b) the patient screen
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
  const readConcurrency = 8;
  const reads = await rounds(async () => {
    await graphql.child.call('cpu');
    const gql = await closedLoop({
      concurrency: readConcurrency,
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
      concurrency: readConcurrency,
      durationMs: ROUND_MS,
      maxOps: MAX_OPS,
      send: async () => {
        const res = await jsonHttp.request('GET', jsonPath);
        return res.status === 200 ? null : `HTTP ${res.status}`;
      },
    });
    const baseCpu = await json.child.call<number>('cpu');
    const bare = await closedLoop({ concurrency: readConcurrency, durationMs: ROUND_MS / 2, maxOps: MAX_OPS, send: async () => ((await helloHttp.request('GET', '/')).status === 200 ? null : 'not 200') });
    return { gql, base, bare, gqlCpuPerOp: gqlCpu / Math.max(1, gql.ok), baseCpuPerOp: baseCpu / Math.max(1, base.ok) };
  });
  const readFailed = reads.reduce((n, r) => n + r.gql.failed + r.base.failed, 0);
  failures += readFailed;
  if (readFailed) console.log(`  screen queries: ${readFailed} failed, first: ${reads.find((r) => r.gql.firstFailure)?.gql.firstFailure}`);
  const gqlReads = reads.map((r) => r.gql.perSecond);
  const baseReads = reads.map((r) => r.base.perSecond);
  printTable(
    `(b) patient screen (50 charges, 100 PR lines, 200 write-offs; ${fmt(responseBytes / 1024, 1)} KiB of JSON) per second at concurrency ${readConcurrency}`,
    ['', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req'],
    [
      ['GraphQL query', spread(gqlReads, 0), fmt(median(reads.map((r) => p50(r.gql))), 2), fmt(median(reads.map((r) => percentile(r.gql.latenciesMs, 99))), 2), fmt(median(reads.map((r) => r.gqlCpuPerOp)), 2)],
      ['plain JSON route (raw SQL)', spread(baseReads, 0), fmt(median(reads.map((r) => p50(r.base))), 2), fmt(median(reads.map((r) => percentile(r.base.latenciesMs, 99))), 2), fmt(median(reads.map((r) => r.baseCpuPerOp)), 2)],
      ['ratio GraphQL/JSON', ratio(median(gqlReads), median(baseReads), 3), '', '', ''],
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

  if (!flat) return 1;
  if (failures > 0) {
    console.log(`\nFAIL: ${failures} requests failed`);
    return 1;
  }
  return 0;
});
