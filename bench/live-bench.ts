/**
 * `npm run bench:live`: live balances over graphql-ws, beside a plain `ws` broadcast measured in the same run.
 *   (a) delivery latency to the LAST of N subscribers of one patient's patientBalanceChanged (N = 100, 1,000), one
 *       write-off at a time, p50/p95/p99; the subscribers live in a separate client process (bench/live-clients.ts)
 *       that reports receive times on a clock calibrated against this process. Measured from three moments:
 *         commit    the server hands the committed balance to its publisher (the baseline's broadcast start is the
 *                   same moment for plain ws, so this row is the like-for-like ratio)
 *         request   the mutation request is sent (includes the write transaction and its fsync)
 *         response  the mutation's HTTP response has arrived (the server pushes at commit, before it answers, so this
 *                   can be small or negative)
 *   (b) server memory per 1,000 idle subscriptions vs plain ws per 1,000 idle sockets (RSS and heap, after full GC)
 *   (c) at scale: 10,000 subscribers over 500 connections (BENCH_LIVE_LARGE=<subscribers>x<connections>, 0 to skip):
 *       commit → last p95 against Hasura's validity bar (every subscriber on the final version, p95 < 1 s, no errors)
 * Goals (issue 13): P5 commit → last of 1,000 subscribers p95 ÷ plain ws p95 ≤ 1.5; P6 heap per idle subscription
 * ≤ 8 KiB. BENCH_LIVE_SIZES=100,1000 picks the sizes of (a) (the memory row needs 1000).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Arrivals,
  Child,
  GraphQLHttp,
  ROUNDS,
  WriteOffSupply,
  createPatient,
  fmt,
  header,
  main,
  median,
  percentile,
  printTable,
  ratio,
  rounds,
  serverEnv,
  sleep,
  startServerProcess,
  tempDir,
  token,
  writeOffLines,
  writeOffProblem,
} from './common';

/** Write-offs per measured round at each N (the warm-up round sends half as many). */
const SIZES = (process.env.BENCH_LIVE_SIZES ?? '100,1000').split(',').map(Number).filter((n) => n > 0);
const SAMPLES: Record<number, number> = Object.fromEntries(SIZES.map((n) => [n, Number(process.env.BENCH_LIVE_SAMPLES ?? (n <= 100 ? 80 : 40))]));
/** (c): subscribers × connections, and write-offs measured. */
const [LARGE_SUBSCRIBERS, LARGE_CONNECTIONS] = (process.env.BENCH_LIVE_LARGE ?? '10000x500').split('x').map(Number);
const LARGE_SAMPLES = LARGE_SUBSCRIBERS > 0 ? Number(process.env.BENCH_LIVE_LARGE_SAMPLES ?? 30) : 0;
/** Goals (issue 13). */
const P5_GOAL = 1.5;
const P6_GOAL_KIB = 8;
/** Write-offs before the first measured one, so it does not pay for lazy initialisation. */
const WARM_UP = 20;
type Delivered = { first: number; last: number };

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

function percentiles(values: number[]): Percentiles {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) };
}

/** The median over rounds of each percentile. */
function medianPercentiles(perRound: Percentiles[]): Percentiles {
  return { p50: median(perRound.map((p) => p.p50)), p95: median(perRound.map((p) => p.p95)), p99: median(perRound.map((p) => p.p99)) };
}

/** A client process holding `count` subscribers, with its 'delivered' reports collected by version. */
async function startClients(name: string, connect: Record<string, unknown>, count: number, timeoutMs = 180_000) {
  const child = Child.start(name, 'live-clients', { cpu: 1 });
  const delivered = new Arrivals<Delivered>();
  child.on('delivered', (m) => delivered.set(Number(m.version), { first: child.toLocal(Number(m.first)), last: child.toLocal(Number(m.last)) }));
  const offset = await child.calibrate();
  const started = Date.now();
  await child.call('connect', { ...connect, count }, timeoutMs);
  return { child, delivered, offset, connectMs: Date.now() - started };
}

main(async (cleanup) => {
  header('Live benchmark: balance delivery over graphql-ws vs a plain ws broadcast (SQLite FULL, in-process events)');
  const dir = tempDir('live');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const practice = 'bench-live';

  const server = await startServerProcess('graphql-server', 'graphql', {}, serverEnv(dir, `sqlite:${path.join(dir, 'ledger.sqlite')}`));
  cleanup(() => server.child.stop());
  const plain = await startServerProcess('ws-baseline', 'ws', {});
  cleanup(() => plain.child.stop());
  const bearer = await token(practice, 'VIEWER', 'dashboard');
  const api = new GraphQLHttp(server.url, await token(practice), 4);
  cleanup(() => api.close());

  const patientId = await createPatient(api, 'Live');
  // The warm-up below and every sample: the warm-up round takes half the samples of each size, then ROUNDS rounds.
  const writeOffs = WARM_UP + LARGE_SAMPLES + SIZES.reduce((n, size) => n + Math.ceil(SAMPLES[size] / 2) + ROUNDS * SAMPLES[size], 0);
  const supply = new WriteOffSupply([await writeOffLines(api, patientId, writeOffs)]);
  const published = new Arrivals<number>();
  server.child.on('published', (m) => m.patientId === patientId && published.set(Number(m.version), server.child.toLocal(Number(m.t))));
  await server.child.call('reportPublished', true);
  for (let i = 0; i < WARM_UP; i++) {
    const problem = writeOffProblem(await api.post(supply.take()));
    if (problem) throw new Error(`write-off refused: ${problem}`);
  }
  published.clear();
  const serverMemoryBefore = await server.child.call<NodeJS.MemoryUsage>('memory');
  const plainMemoryBefore = await plain.child.call<NodeJS.MemoryUsage>('memory');

  /** One write-off; when the last subscriber has it, its latency from request, commit and response. */
  const graphqlSample = async (delivered: Arrivals<Delivered>) => {
    const sent = performance.timeOrigin + performance.now();
    const res = await api.post(supply.take());
    const answered = performance.timeOrigin + performance.now();
    const problem = writeOffProblem(res);
    if (problem) throw new Error(`write-off refused: ${problem}`);
    const version = Number(JSON.parse(res.body).data.writeOff.balance.version);
    const [{ last }, committed] = await Promise.all([delivered.wait(version), published.wait(version)]);
    return { request: last - sent, commit: last - committed, response: last - answered, roundTrip: answered - sent };
  };

  let baselineVersion = 1_000_000;
  const balance = { patientId, outstandingCents: 499_000_000, responsibilityCents: 500_000_000, paidCents: 0, writtenOffCents: 1_000_000, creditCents: 0, updatedAt: new Date().toISOString() };
  /** One broadcast of the same message graphql-ws sends; latency from the broadcast start to the last socket. */
  const plainSample = async (delivered: Arrivals<Delivered>) => {
    const version = ++baselineVersion;
    const payload = JSON.stringify({ id: '1', type: 'next', payload: { data: { patientBalanceChanged: { ...balance, version, updatedAt: new Date().toISOString() } } } });
    const { t0 } = await plain.child.call<{ t0: number }>('broadcast', { payload });
    const { last } = await delivered.wait(version);
    return last - plain.child.toLocal(t0);
  };

  const latencyRows: string[][] = [];
  const memoryRows: string[][] = [];
  const notes: string[] = [];
  const tripNotes: string[] = [];
  for (const size of [...SIZES].sort((a, b) => b - a)) {
    // GraphQL subscribers: each its own graphql-ws connection, as a dashboard would hold.
    const gqlClients = await startClients('graphql-clients', { kind: 'graphql', url: server.url, token: bearer, patientId }, size);
    notes.push(`N=${size}: ${size} graphql-ws subscriptions opened in ${fmt(gqlClients.connectMs / 1000, 1)} s; client clock offset ${fmt(gqlClients.offset, 3)} ms`);
    if (size === 1000) {
      await sleep(500);
      const after = await server.child.call<NodeJS.MemoryUsage>('memory');
      memoryRows.push(['GraphQL subscriptions (graphql-ws)', ...memoryDelta(serverMemoryBefore, after, size)]);
    }
    const gql = await rounds(async (round) => {
      const samples = [];
      for (let i = 0; i < (round === 0 ? SAMPLES[size] / 2 : SAMPLES[size]); i++) samples.push(await graphqlSample(gqlClients.delivered));
      return {
        commit: percentiles(samples.map((s) => s.commit)),
        request: percentiles(samples.map((s) => s.request)),
        response: percentiles(samples.map((s) => s.response)),
        roundTrip: percentiles(samples.map((s) => s.roundTrip)),
      };
    });
    const trip = medianPercentiles(gql.map((r) => r.roundTrip));
    tripNotes.unshift(`N=${size}: the writeOff request's own HTTP round trip: p50 ${fmt(trip.p50, 1)} ms, p95 ${fmt(trip.p95, 1)} ms (the server fans out before it answers).`);
    const status = await gqlClients.child.call<{ errors: number }>('status');
    if (status.errors > 0) throw new Error(`${status.errors} graphql-ws subscriber errors at N=${size}`);
    await gqlClients.child.call('disconnect');
    await gqlClients.child.stop();

    // Baseline: the same number of plain ws sockets in the same kind of client process.
    const wsClients = await startClients('ws-clients', { kind: 'ws', url: plain.url, baseVersion: baselineVersion }, size);
    notes.push(`N=${size}: ${size} plain ws sockets opened in ${fmt(wsClients.connectMs / 1000, 1)} s; client clock offset ${fmt(wsClients.offset, 3)} ms`);
    if (size === 1000) {
      await sleep(500);
      const after = await plain.child.call<NodeJS.MemoryUsage>('memory');
      memoryRows.push(['plain ws sockets', ...memoryDelta(plainMemoryBefore, after, size)]);
    }
    const base = await rounds(async (round) => {
      const samples = [];
      for (let i = 0; i < (round === 0 ? SAMPLES[size] / 2 : SAMPLES[size]); i++) samples.push(await plainSample(wsClients.delivered));
      return percentiles(samples);
    });
    await wsClients.child.call('disconnect');
    await wsClients.child.stop();

    const b = medianPercentiles(base);
    const rowsForSize = (['commit', 'request', 'response'] as const).map((from) => {
      const g = medianPercentiles(gql.map((r) => r[from]));
      const label = { commit: 'commit (publish) → last', request: 'request sent → last', response: 'HTTP response → last' }[from];
      return [
        String(size),
        label,
        fmt(g.p50, 2),
        fmt(g.p95, 2),
        fmt(g.p99, 2),
        fmt(b.p50, 2),
        fmt(b.p95, 2),
        fmt(b.p99, 2),
        ratio(g.p50, b.p50),
        ratio(g.p95, b.p95),
        ratio(g.p99, b.p99),
      ];
    });
    latencyRows.unshift(...rowsForSize);
  }

  printTable(
    `(a) delivery latency to the LAST of N subscribers, ms (median of ${ROUNDS} rounds × ${SIZES.map((n) => `${SAMPLES[n]} (N=${n})`).join(' / ')} write-offs, one at a time)`,
    ['N', 'GraphQL measured from', 'GQL p50', 'GQL p95', 'GQL p99', 'ws p50', 'ws p95', 'ws p99', 'ratio p50', 'ratio p95', 'ratio p99'],
    latencyRows,
    [
      'ws = plain `ws` WebSocketServer broadcasting the same graphql-ws "next" JSON to N sockets, measured from the broadcast start.',
      'commit row: from the moment the server hands the committed balance to its publisher (before it answers the mutation) — the like-for-like comparison.',
      'request row: from sending the writeOff request (includes its transaction and fsync); response row: from receiving its HTTP answer (negative = subscribers had it first).',
      ...tripNotes,
      ...notes,
    ],
  );
  const p5Row = latencyRows.find((row) => row[0] === '1000' && row[1].startsWith('commit'));
  const [gqlMem, wsMem] = memoryRows;
  if (gqlMem && wsMem) printTable(
    '(b) server memory per 1,000 idle subscribers (server process, after full GC; Δ from before any connection)',
    ['', 'RSS Δ / 1,000 (MiB)', 'heapUsed Δ / 1,000 (MiB)', 'RSS per subscriber (KiB)', 'heap per subscriber (KiB)'],
    [gqlMem, wsMem, ['ratio GraphQL / plain ws', ratioText(gqlMem[1], wsMem[1]), ratioText(gqlMem[2], wsMem[2]), ratioText(gqlMem[3], wsMem[3]), ratioText(gqlMem[4], wsMem[4])]],
    ['GraphQL: one graphql-ws connection + one patientBalanceChanged subscription each; plain ws: one socket each; both servers idle when measured.'],
  );

  // (c) at scale: many subscriptions per connection, one write-off at a time.
  const largeRows: string[][] = [];
  let largeOk = true;
  if (LARGE_SAMPLES > 0) {
    const perConnection = Math.ceil(LARGE_SUBSCRIBERS / LARGE_CONNECTIONS);
    const large = await startClients('graphql-clients-large', { kind: 'graphql', url: server.url, token: bearer, patientId, perConnection, batch: 25 }, LARGE_SUBSCRIBERS, 600_000);
    const samples = [];
    for (let i = 0; i < LARGE_SAMPLES; i++) samples.push(await graphqlSample(large.delivered));
    const status = await large.child.call<{ errors: number; minVersion: number }>('status');
    const final = (await api.ok<{ patient: { balance: { version: number } } }>(`query($id: ID!) { patient(id: $id) { balance { version } } }`, { id: patientId })).patient.balance.version;
    await large.child.call('disconnect');
    await large.child.stop();
    const p = percentiles(samples.map((s) => s.commit));
    largeOk = status.errors === 0 && status.minVersion === final && p.p95 < 1000;
    largeRows.push([
      `${LARGE_SUBSCRIBERS.toLocaleString('en-US')} / ${LARGE_CONNECTIONS}`,
      fmt(large.connectMs / 1000, 1),
      fmt(p.p50, 1),
      fmt(p.p95, 1),
      fmt(p.p99, 1),
      `${status.minVersion} / ${final}`,
      String(status.errors),
      largeOk ? 'ok' : 'MISS',
    ]);
    printTable(
      `(c) at scale: commit (publish) → last subscriber, ms (${LARGE_SAMPLES} write-offs, one at a time)`,
      ['subscribers / connections', 'opened in (s)', 'p50', 'p95', 'p99', 'lowest version / final', 'errors', 'bar (all final, p95 < 1 s, 0 errors)'],
      largeRows,
      [`${perConnection} patientBalanceChanged subscriptions of the same document per connection, all in one client process.`],
    );
  }

  const p5 = p5Row ? p5Row[9] : 'n/a (BENCH_LIVE_SIZES without 1000)';
  const p6 = gqlMem ? Number(gqlMem[4].replace(/,/g, '')) : NaN;
  console.log('\nGoals (issue 13):');
  console.log(`  P5 commit → last of 1,000 p95 ÷ plain ws p95: ${p5} (goal ≤ ${P5_GOAL}×)${p5Row ? (Number(p5Row[9].replace('×', '')) <= P5_GOAL ? ' ok' : ' MISS') : ''}`);
  if (largeRows.length) console.log(`  P5 at ${largeRows[0][0]}: p95 ${largeRows[0][3]} ms, ${largeRows[0][7]}`);
  console.log(`  P6 heap per idle subscription: ${gqlMem ? `${gqlMem[4]} KiB (RSS ${gqlMem[3]} KiB; plain ws ${wsMem[4]} KiB heap)` : 'n/a'} (goal ≤ ${P6_GOAL_KIB} KiB)${Number.isFinite(p6) ? (p6 <= P6_GOAL_KIB ? ' ok' : ' MISS') : ''}`);
  return largeOk ? 0 : 1;
});

function memoryDelta(before: NodeJS.MemoryUsage, after: NodeJS.MemoryUsage, count: number): string[] {
  const rss = (after.rss - before.rss) / count;
  const heap = (after.heapUsed - before.heapUsed) / count;
  return [fmt((rss * 1000) / 2 ** 20, 2), fmt((heap * 1000) / 2 ** 20, 2), fmt(rss / 1024, 1), fmt(heap / 1024, 1)];
}

function ratioText(a: string, b: string): string {
  return ratio(Number(a.replace(/,/g, '')), Number(b.replace(/,/g, '')));
}
