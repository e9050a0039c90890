/**
 * `npm run bench:era`: importing an insurer's 835 (docs/design.md §9.1) on SQLite (WAL, synchronous=FULL), against
 * the baseline of the same run (docs/operations.md §6): parsing the same file alone.
 *
 * Setup (not timed): PATIENTS patients with CLAIMS charges between them, each with a claim number (every tenth also
 * with a line control number). Each round (1 warm-up, then the median of BENCH_ROUNDS, default 3) builds a fresh
 * file (new trace numbers, so it is not a duplicate) of CLAIMS claims in PAYMENTS payments, one service line each
 * with PR (coinsurance, sometimes a deductible) and a contractual CO-45; every tenth line matches by REF*6R, the rest
 * by claim number, procedure code and date of service; UNMATCHED claims name no charge (issues). Then:
 *   parse      parse835(file) in the bench process (CPU 1), PARSES times: the median
 *   import     one importRemittanceFile call over HTTP: parse, match, check and create every batch in one unit of work
 *   preview    postingBatch(id) { preview { … } } for every batch the import made, one after the other
 * Reported: import, import + preview, and each ÷ parse alone.
 *
 * Checked, else exit 1: one DRAFT REMITTANCE batch per part (a payment of more lines than a batch holds is split),
 * every matched line an entry and every unmatched claim a CLAIM_NOT_FOUND issue, every preview valid.
 *
 * Knobs for a quick check that it runs: BENCH_ROUNDS, BENCH_ERA_CLAIMS, BENCH_ERA_PAYMENTS, BENCH_ERA_PATIENTS,
 * BENCH_ERA_PARSES.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GraphQLHttp, ROUNDS, cpus, createPatient, envCount, fmt, header, inBatches, main, median, now, printTable, ratio, rounds, serverEnv, spread, startServerProcess, tempDir, token } from './common';
import { parse835 } from '../src/era/era835';
import { ENTRIES_PER_IMPORTED_BATCH } from '../src/era/era-import';
import { ClaimSpec, PaymentSpec, era835 } from '../test/support/era-file';

const CLAIMS = envCount('BENCH_ERA_CLAIMS', 2_000);
const PAYMENTS = envCount('BENCH_ERA_PAYMENTS', 4);
const PATIENTS = envCount('BENCH_ERA_PATIENTS', 200);
const PARSES = envCount('BENCH_ERA_PARSES', 9);
/** Claims per file that match no charge: they become CLAIM_NOT_FOUND issues. */
const UNMATCHED = Math.floor(CLAIMS / 100);

const CREATE_CHARGE = `mutation($input: CreateChargeInput!) { createCharge(input: $input) { charge { id } userErrors { code message } } }`;
const IMPORT = `mutation($input: ImportRemittanceFileInput!) {
  importRemittanceFile(input: $input) { batches { id kind status reference issues { code } } userErrors { code message } }
}`;
const PREVIEW = `query($id: ID!) { postingBatch(id: $id) { preview { valid token userErrors { code message field } patients { patientId } lines { responsibilityId } } } }`;
const ENTRY_PAGE = `query($id: ID!, $after: String) { postingBatch(id: $id) { entries(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;

interface BenchCharge {
  claimNumber: string;
  lineControlNumber: string | null;
  procedureCode: string;
  serviceDate: string;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const PROCEDURES = ['99213', '99214', '81002', '36415', '90471'];

function chargeSpec(i: number): BenchCharge {
  return {
    claimNumber: `PCN${String(i).padStart(6, '0')}`,
    lineControlNumber: i % 10 === 0 ? `LC${String(i).padStart(6, '0')}` : null,
    procedureCode: PROCEDURES[i % PROCEDURES.length],
    serviceDate: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
  };
}

/** The round's file: CLAIMS claims over PAYMENTS payments; claim k pays charge k (the last UNMATCHED name none). */
function buildFile(round: number): string {
  const claims: ClaimSpec[] = range(CLAIMS).map((k) => {
    const c = chargeSpec(k);
    const unmatched = k >= CLAIMS - UNMATCHED;
    const adjustments = [
      { group: 'PR' as const, reason: '2', cents: 1_000 + (k % 50) * 10 },
      ...(k % 3 === 0 ? [{ group: 'PR' as const, reason: '1', cents: 2_500 }] : []),
      { group: 'CO' as const, reason: '45', cents: 4_000 },
    ];
    return {
      claimNumber: unmatched ? `UNKNOWN${k}` : c.claimNumber,
      payerClaimNumber: `ICN${round}-${k}`,
      lines: [{ code: c.procedureCode, chargeCents: 20_000, date: c.serviceDate, control: unmatched ? undefined : (c.lineControlNumber ?? undefined), adjustments }],
    };
  });
  const per = Math.ceil(CLAIMS / PAYMENTS);
  const payments: PaymentSpec[] = range(PAYMENTS).map((p) => ({
    trace: `BENCH-${process.pid}-${round}-${p}`,
    date: '2026-02-01',
    payerName: 'BENCH HEALTH PLAN',
    claims: claims.slice(p * per, (p + 1) * per),
  }));
  return era835(payments.filter((p) => p.claims.length > 0));
}

interface Round {
  parseMs: number;
  importMs: number;
  previewMs: number;
  batches: number;
  bytes: number;
}

main(async (cleanup) => {
  header('ERA import benchmark: an 835 of many claims imported and previewed over HTTP (SQLite, WAL, synchronous=FULL)');
  const dir = tempDir('era');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'era.sqlite');
  const server = await startServerProcess('graphql-server', 'graphql', {}, serverEnv(dir, `sqlite:${dbPath}`));
  cleanup(() => server.child.stop());
  const api = new GraphQLHttp(server.url, await token('bench-practice', 'BILLING'), 16);
  cleanup(() => api.close());

  // ------------------------------------------------------------------------------------------------ setup (not timed)
  const setupStarted = now();
  const patients: string[] = [];
  await inBatches(range(PATIENTS), 8, async (i) => {
    patients[i] = await createPatient(api, `Era${i}`);
  });
  await inBatches(range(CLAIMS), 8, async (i) => {
    const c = chargeSpec(i);
    const data = await api.ok<{ createCharge: { charge: { id: string } | null; userErrors: unknown[] } }>(CREATE_CHARGE, {
      input: { patientId: patients[i % PATIENTS], billedCents: 20_000, ...c },
    });
    if (!data.createCharge.charge) throw new Error(`createCharge refused: ${JSON.stringify(data.createCharge.userErrors)}`);
  });
  const expectedBatches = range(PAYMENTS).reduce((n, p) => {
    const per = Math.ceil(CLAIMS / PAYMENTS);
    const claims = Math.max(0, Math.min(per, CLAIMS - p * per));
    return n + (claims === 0 ? 0 : Math.ceil(claims / ENTRIES_PER_IMPORTED_BATCH));
  }, 0);
  console.log(
    `setup: ${PATIENTS} patients, ${CLAIMS} charges with claim numbers (every tenth with a line control number), in ${fmt((now() - setupStarted) / 1000, 1)} s; ` +
      `each round: a new file of ${CLAIMS} claims (${UNMATCHED} unmatched) in ${PAYMENTS} payments → ${expectedBatches} batches of at most ${ENTRIES_PER_IMPORTED_BATCH} entries`,
  );

  const problems: string[] = [];
  const measured = await rounds(async (round): Promise<Round> => {
    const where = `round ${round}${round === 0 ? ' (warm-up)' : ''}`;
    const fail = (what: string) => problems.push(`${where}: ${what}`);
    const file = buildFile(round);

    // parse alone, in this process
    const parseMs: number[] = [];
    for (let i = 0; i < PARSES; i++) {
      const t0 = now();
      const era = parse835(file);
      parseMs.push(now() - t0);
      if (era.payments.reduce((n, p) => n + p.claims.length, 0) !== CLAIMS) throw new Error(`${where}: parsed the wrong number of claims`);
    }

    // import: one call
    const body = GraphQLHttp.body(IMPORT, { input: { content: file, fileName: `bench-${round}.835` } });
    const t0 = now();
    const res = await api.post(body);
    const importMs = now() - t0;
    const parsed = JSON.parse(res.body) as {
      data?: { importRemittanceFile: { batches: { id: string; kind: string; status: string; reference: string; issues: { code: string }[] }[]; userErrors: unknown[] } };
      errors?: unknown[];
    };
    if (res.status !== 200 || parsed.errors?.length || !parsed.data) throw new Error(`${where}: import failed: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    const { batches, userErrors } = parsed.data.importRemittanceFile;
    if (userErrors.length) throw new Error(`${where}: import refused: ${JSON.stringify(userErrors)}`);
    if (batches.length !== expectedBatches) fail(`${batches.length} batches, expected ${expectedBatches}`);
    if (batches.some((b) => b.kind !== 'REMITTANCE' || b.status !== 'DRAFT')) fail('a batch is not a DRAFT REMITTANCE batch');
    const issues = batches.flatMap((b) => b.issues);
    if (issues.length !== UNMATCHED || issues.some((i) => i.code !== 'CLAIM_NOT_FOUND')) fail(`${issues.length} issues (${[...new Set(issues.map((i) => i.code))].join(', ')}), expected ${UNMATCHED} CLAIM_NOT_FOUND`);

    // preview every batch, one after the other
    let previewMs = 0;
    let entries = 0;
    for (const batch of batches) {
      const p0 = now();
      const preview = await api.ok<{ postingBatch: { preview: { valid: boolean; token: string; userErrors: unknown[]; patients: unknown[]; lines: unknown[] } } }>(PREVIEW, { id: batch.id });
      previewMs += now() - p0;
      const seen = preview.postingBatch.preview;
      if (!seen.valid || seen.userErrors.length || !seen.token) fail(`preview of ${batch.reference} not valid: ${JSON.stringify(seen.userErrors).slice(0, 300)}`);
      // Counted outside the timing: the entries of the batch, page by page.
      let after: string | null = null;
      for (;;) {
        const page: { postingBatch: { entries: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } } = await api.ok(ENTRY_PAGE, { id: batch.id, after });
        entries += page.postingBatch.entries.edges.length;
        if (!page.postingBatch.entries.pageInfo.hasNextPage) break;
        after = page.postingBatch.entries.pageInfo.endCursor;
      }
    }
    if (entries !== CLAIMS - UNMATCHED) fail(`${entries} entries, expected ${CLAIMS - UNMATCHED}`);
    return { parseMs: median(parseMs), importMs, previewMs, batches: batches.length, bytes: Buffer.byteLength(file) };
  });

  const of = (pick: (r: Round) => number) => measured.map(pick);
  const mid = (pick: (r: Round) => number) => median(of(pick));
  const parse = mid((r) => r.parseMs);
  const imported = mid((r) => r.importMs);
  const total = mid((r) => r.importMs + r.previewMs);
  const shape = `${CLAIMS} claims in ${PAYMENTS} payments (${fmt(mid((r) => r.bytes) / 1024, 0)} KiB) → ${fmt(mid((r) => r.batches), 0)} batches`;

  printTable(
    `(a) one 835 of ${shape}, ms (median of ${ROUNDS} rounds, min–max in brackets; a fresh file each round)`,
    ['operation', 'ms', '÷ parse alone'],
    [
      [`parse835 alone (bench process, CPU 1), median of ${PARSES}`, spread(of((r) => r.parseMs), 1), '1.00×'],
      ['importRemittanceFile over HTTP: parse + match + check + create batches (one unit of work)', spread(of((r) => r.importMs), 1), ratio(imported, parse)],
      ['preview of every batch it made, one after the other', spread(of((r) => r.previewMs), 1), ratio(mid((r) => r.previewMs), parse)],
      ['import + preview', spread(of((r) => r.importMs + r.previewMs), 1), ratio(total, parse)],
    ],
    [
      'ms: request to parsed answer on the load generator (CPU 1); the server runs pinned to CPU 0. Parsing alone runs in the bench process, on CPU 1.',
      `Every matched line is a REMITTANCE entry (${CLAIMS - UNMATCHED}), every unmatched claim a CLAIM_NOT_FOUND issue (${UNMATCHED}); every preview valid.`,
    ],
  );

  const failed = problems.length > 0;
  printTable(
    `Summary (${new Date().toISOString().slice(0, 10)}; ${cpus()}; server on CPU 0, load on CPU 1; SQLite WAL, synchronous=FULL; median of ${ROUNDS} rounds)`,
    ['measure', 'measured', 'result'],
    [
      [`import of ${CLAIMS} claims`, `${fmt(imported, 1)} ms (${ratio(imported, parse)} parse alone, ${fmt(parse, 1)} ms)`, ''],
      [`import + preview of ${CLAIMS} claims`, `${fmt(total, 1)} ms (${ratio(total, parse)} parse alone)`, ''],
      ['correctness: batches, entries, issues, valid previews', failed ? `${problems.length} problems` : 'all rounds', failed ? 'FAIL' : 'PASS'],
    ],
  );
  if (failed) {
    console.log(`\nFAIL:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  return 0;
});
