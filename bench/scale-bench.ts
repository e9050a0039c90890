/**
 * `npm run bench:scale`: scale mode (PostgreSQL + Redis) beside the single-instance setups, measured in the same run.
 * Needs local PostgreSQL (PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres, trust auth; a throwaway
 * database is created and dropped) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379).
 *   (a) cross-instance delivery: instances A and B share one PostgreSQL database and Redis; the write-off goes to A,
 *       the subscribers sit on B — beside single-instance delivery (write-off and subscribers on instance C, same
 *       PostgreSQL database, in-process events). p50/p95, ratio and difference.
 *   (b) write-off throughput at concurrency 8: PostgreSQL (instance C) beside SQLite with synchronous=FULL.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Arrivals,
  Child,
  GraphQLHttp,
  PG_ADMIN_URL,
  REDIS_URL,
  ROUNDS,
  WriteOffSupply,
  createPatient,
  fmt,
  header,
  main,
  median,
  percentile,
  postgresSettings,
  printTable,
  ratio,
  reachable,
  rounds,
  serverEnv,
  spread,
  startServerProcess,
  tempDir,
  token,
  writeOffLines,
  writeOffProblem,
  writeOffRound,
} from './common';
import { MAX_LINES_PER_CHARGE, MAX_WRITE_OFFS_PER_LINE } from '../src/ledger/limits';
import { createScratchDatabase } from '../test/scratch-postgres';

const SUBSCRIBERS = 10;
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 60);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 2500);
const CONCURRENCY = 8;
const WRITE_PATIENTS = 32;
/** The moments each version of `patientId` was handed to a server's publisher, on our clock. */
async function publishedOn(server: Child, patientId: string): Promise<Arrivals<number>> {
  const arrivals = new Arrivals<number>();
  server.on('published', (m) => m.patientId === patientId && arrivals.set(Number(m.version), server.toLocal(Number(m.t))));
  await server.call('reportPublished', true);
  return arrivals;
}

/** A client process with `SUBSCRIBERS` graphql-ws subscribers of one patient on one instance; 'delivered' = the last one has it. */
async function subscribers(name: string, url: string, bearer: string, patientId: string): Promise<{ child: Child; delivered: Arrivals<number> }> {
  const child = Child.start(name, 'live-clients', { cpu: 1 });
  const delivered = new Arrivals<number>();
  child.on('delivered', (m) => delivered.set(Number(m.version), child.toLocal(Number(m.last))));
  await child.calibrate();
  await child.call('connect', { kind: 'graphql', url, token: bearer, patientId, count: SUBSCRIBERS });
  return { child, delivered };
}

interface Path {
  api: GraphQLHttp;
  supply: WriteOffSupply;
  published: Arrivals<number>;
  delivered: Arrivals<number>;
}

/** One write-off; latency to the last subscriber from the request and from the commit. */
async function deliverySample(path: Path): Promise<{ request: number; commit: number }> {
  const sent = performance.timeOrigin + performance.now();
  const res = await path.api.post(path.supply.take());
  const problem = writeOffProblem(res);
  if (problem) throw new Error(`write-off refused: ${problem}`);
  const version = Number(JSON.parse(res.body).data.writeOff.balance.version);
  const [last, committed] = await Promise.all([path.delivered.wait(version), path.published.wait(version)]);
  return { request: last - sent, commit: last - committed };
}

main(async (cleanup) => {
  header('Scale benchmark: PostgreSQL + Redis, two instances, beside single-instance setups');
  const [pgUp, redisUp] = await Promise.all([reachable(PG_ADMIN_URL, 5432), reachable(REDIS_URL, 6379)]);
  if (!pgUp || !redisUp) {
    console.error(
      `\nThis benchmark needs ${[!pgUp && `PostgreSQL at ${PG_ADMIN_URL} (set PG_ADMIN_URL)`, !redisUp && `Redis at ${REDIS_URL} (set BENCH_REDIS_URL)`].filter(Boolean).join(' and ')}, ` +
        'and it is not reachable. Start it (e.g. `pg_ctlcluster 15 main start`, `redis-server --daemonize yes`) and run again.',
    );
    return 1;
  }
  const pg = await createScratchDatabase('ledger_bench');
  cleanup(() => pg.drop());
  console.log(`${await postgresSettings(pg.url)}, throwaway database; Redis at ${REDIS_URL}; PostgreSQL and Redis are not pinned`);

  const dir = tempDir('scale');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  // One at a time: each runs the migrations on start.
  const a = await startServerProcess('instance-A', 'graphql', {}, serverEnv(dir, pg.url, { REDIS_URL }));
  cleanup(() => a.child.stop());
  const b = await startServerProcess('instance-B', 'graphql', {}, serverEnv(dir, pg.url, { REDIS_URL }));
  cleanup(() => b.child.stop());
  const c = await startServerProcess('instance-C', 'graphql', {}, serverEnv(dir, pg.url));
  cleanup(() => c.child.stop());
  const lite = await startServerProcess('sqlite-server', 'graphql', {}, serverEnv(dir, `sqlite:${path.join(dir, 'ledger.sqlite')}`));
  cleanup(() => lite.child.stop());

  const practice = 'bench-scale';
  const writer = await token(practice);
  const viewer = await token(practice, 'VIEWER', 'dashboard');
  const apiA = new GraphQLHttp(a.url, writer, 16);
  const apiC = new GraphQLHttp(c.url, writer, 16);
  const apiLite = new GraphQLHttp(lite.url, writer, 16);
  cleanup(() => [apiA, apiC, apiLite].forEach((api) => api.close()));

  // ------------------------------------------------------------------------------------------------ (a) delivery
  const crossPatient = await createPatient(apiA, 'Cross');
  // Warm-up round (half the samples) and the measured rounds, one write-off each per sample.
  const deliveryWriteOffs = Math.ceil(SAMPLES / 2) + ROUNDS * SAMPLES;
  const crossLines = await writeOffLines(apiA, crossPatient, deliveryWriteOffs);
  const singlePatient = await createPatient(apiC, 'Single');
  const singleLines = await writeOffLines(apiC, singlePatient, deliveryWriteOffs);
  const crossSubs = await subscribers('subscribers-on-B', b.url, viewer, crossPatient);
  cleanup(() => crossSubs.child.stop());
  const singleSubs = await subscribers('subscribers-on-C', c.url, viewer, singlePatient);
  cleanup(() => singleSubs.child.stop());
  const cross: Path = { api: apiA, supply: new WriteOffSupply([crossLines]), published: await publishedOn(a.child, crossPatient), delivered: crossSubs.delivered };
  const single: Path = { api: apiC, supply: new WriteOffSupply([singleLines]), published: await publishedOn(c.child, singlePatient), delivered: singleSubs.delivered };

  const delivery = await rounds(async (round) => {
    const samples = { cross: [] as { request: number; commit: number }[], single: [] as { request: number; commit: number }[] };
    const count = round === 0 ? SAMPLES / 2 : SAMPLES;
    for (let i = 0; i < count; i++) {
      samples.cross.push(await deliverySample(cross));
      samples.single.push(await deliverySample(single));
    }
    const stat = (list: { request: number; commit: number }[], from: 'request' | 'commit', p: number) => percentile(list.map((s) => s[from]), p);
    return (['commit', 'request'] as const).map((from) => ({
      from,
      cross: { p50: stat(samples.cross, from, 50), p95: stat(samples.cross, from, 95) },
      single: { p50: stat(samples.single, from, 50), p95: stat(samples.single, from, 95) },
    }));
  });
  const deliveryRows = (['commit', 'request'] as const).map((from, i) => {
    const pick = (which: 'cross' | 'single', p: 'p50' | 'p95') => median(delivery.map((r) => r[i][which][p]));
    return [
      from === 'commit' ? 'commit (publish on the writer) → last' : 'request sent → last',
      fmt(pick('cross', 'p50'), 2),
      fmt(pick('cross', 'p95'), 2),
      fmt(pick('single', 'p50'), 2),
      fmt(pick('single', 'p95'), 2),
      ratio(pick('cross', 'p50'), pick('single', 'p50')),
      ratio(pick('cross', 'p95'), pick('single', 'p95')),
      `${fmt(pick('cross', 'p95') - pick('single', 'p95'), 2)} ms`,
    ];
  });
  printTable(
    `(a) delivery to the last of ${SUBSCRIBERS} subscribers, ms (median of 3 rounds × ${SAMPLES} write-offs each way, one at a time, interleaved)`,
    ['measured from', 'cross p50', 'cross p95', 'single p50', 'single p95', 'ratio p50', 'ratio p95', 'p95 added by Redis'],
    deliveryRows,
    [
      'cross: writeOff on instance A → Redis pub/sub → instance B → subscribers (A and B share the PostgreSQL database and Redis).',
      'single: writeOff and subscribers on instance C, same PostgreSQL database, in-process events (no Redis).',
    ],
  );

  // ------------------------------------------------------------------------------------------------ (b) throughput
  const pgSupply = await WriteOffSupply.create(apiC, { patients: WRITE_PATIENTS, writeOffs: MAX_LINES_PER_CHARGE * MAX_WRITE_OFFS_PER_LINE, name: 'Writer' });
  const liteSupply = await WriteOffSupply.create(apiLite, { patients: WRITE_PATIENTS, writeOffs: MAX_LINES_PER_CHARGE * MAX_WRITE_OFFS_PER_LINE, name: 'Writer' });
  let roundsLeft = ROUNDS + 1;
  const throughput = await rounds(async () => {
    const options = { concurrency: CONCURRENCY, durationMs: ROUND_MS, roundsLeft: roundsLeft-- };
    const pgRound = await writeOffRound(c.child, apiC, pgSupply, options);
    const liteRound = await writeOffRound(lite.child, apiLite, liteSupply, options);
    return { pg: pgRound.load, lite: liteRound.load, pgCpu: pgRound.cpuPerOp, liteCpu: liteRound.cpuPerOp };
  });
  const failed = throughput.reduce((n, r) => n + r.pg.failed + r.lite.failed, 0);
  const pgRate = throughput.map((r) => r.pg.perSecond);
  const liteRate = throughput.map((r) => r.lite.perSecond);
  printTable(
    `(b) write-off mutations per second at concurrency ${CONCURRENCY} (${WRITE_PATIENTS} patients × ${MAX_LINES_PER_CHARGE} lines, 1-cent write-offs, ${ROUND_MS} ms rounds)`,
    ['database', 'writeOff/s', 'p50 ms', 'p95 ms', 'server CPU ms/op'],
    [
      ['PostgreSQL (instance C, pool 10)', spread(pgRate, 0), fmt(median(throughput.map((r) => percentile(r.pg.latenciesMs, 50))), 1), fmt(median(throughput.map((r) => percentile(r.pg.latenciesMs, 95))), 1), fmt(median(throughput.map((r) => r.pgCpu)), 2)],
      ['SQLite (WAL, synchronous=FULL)', spread(liteRate, 0), fmt(median(throughput.map((r) => percentile(r.lite.latenciesMs, 50))), 1), fmt(median(throughput.map((r) => percentile(r.lite.latenciesMs, 95))), 1), fmt(median(throughput.map((r) => r.liteCpu)), 2)],
      ['ratio PostgreSQL / SQLite', ratio(median(pgRate), median(liteRate)), '', '', ''],
    ],
    ['server CPU counts the Node process only (not the PostgreSQL backends).'],
  );
  if (failed > 0) {
    console.log(`\nFAIL: ${failed} write-offs failed; first: ${throughput.find((r) => r.pg.firstFailure || r.lite.firstFailure)?.pg.firstFailure ?? throughput.find((r) => r.lite.firstFailure)?.lite.firstFailure}`);
    return 1;
  }
  return 0;
});
