/**
 * `npm run bench:posting`: the Posting Tool (docs/design.md §8.1) on SQLite (WAL, synchronous=FULL), against the
 * baseline of the same run (docs/operations.md §6): one recordPayment at concurrency 1.
 *
 * Each round (1 warm-up, then the median of BENCH_ROUNDS, default 3) has fresh patients and a fresh batch:
 *   setup (not timed)  PATIENTS new patients, each with one charge of LINES_PER_CHARGE open PR lines
 *   create             one createPostingBatch call: a DEPOSIT batch with all PAYMENTS payments as its entries (payment k
 *                      is for patient k mod PATIENTS, so some patients get several; 1–2 allocations on that patient's
 *                      lines), with expectedTotalCents set to their sum
 *   preview            postingBatch(id) { preview { … } } over HTTP, PREVIEWS times in a row (the Posting Tool
 *                      previews on every keystroke): the median, and the first one of the round beside it
 *   post               postPostingBatch with the preview's token, once
 *   baseline           SINGLES recordPayment mutations of the same shape, one at a time, on patients outside the
 *                      batches: the median latency
 * Reported: post ÷ (PAYMENTS × one payment), which should be well under 1 (one transaction and one commit instead of
 * PAYMENTS of each), and preview ÷ post.
 *
 * Checked, else exit 1: every preview valid, with no userErrors, every touched patient and exactly the lines the
 * payments allocate to, and the same token each time; the post accepted, the batch POSTED (in the payload and read
 * back), and every touched patient's version up by exactly one (in the payload and read back).
 *
 * Knobs for a quick check that it runs (the defaults are what the README's numbers use): BENCH_ROUNDS,
 * BENCH_POSTING_PAYMENTS (at most 500, what one call may add), BENCH_POSTING_PATIENTS, BENCH_POSTING_PREVIEWS,
 * BENCH_POSTING_SINGLES.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  GraphQLHttp,
  ROUNDS,
  cpus,
  createCharge,
  createPatient,
  envCount,
  fmt,
  header,
  inBatches,
  main,
  median,
  now,
  patientVersions,
  printTable,
  ratio,
  recordPayment,
  rounds,
  serverEnv,
  spread,
  startServerProcess,
  tempDir,
  token,
} from './common';
import { MAX_ENTRIES_PER_ADD } from '../src/ledger/limits';

const PAYMENTS = envCount('BENCH_POSTING_PAYMENTS', 500);
const PATIENTS = envCount('BENCH_POSTING_PATIENTS', 200);
const PREVIEWS = envCount('BENCH_POSTING_PREVIEWS', 9);
const SINGLES = envCount('BENCH_POSTING_SINGLES', 100);
/** Patients the single payments of the baseline go to, round-robin (created once, outside every batch). */
const SINGLE_PATIENTS = 50;
const LINES_PER_CHARGE = 4;
/** Room on each line for every allocation a round (or all the baseline's rounds) can put on it. */
const LINE_CENTS = 50_000;

const CREATE_BATCH = `mutation($input: CreatePostingBatchInput!) {
  createPostingBatch(input: $input) { batch { id status paymentTotalCents } userErrors { code message field } }
}`;
const PREVIEW = `query($id: ID!) {
  postingBatch(id: $id) { id status preview { valid token userErrors { code message field } patients { patientId } lines { responsibilityId } } }
}`;
const POST_BATCH = `mutation($input: PostPostingBatchInput!) {
  postPostingBatch(input: $input) { batch { id status } balances { patientId version } userErrors { code message field } }
}`;
const BATCH_STATUS = `query($id: ID!) { postingBatch(id: $id) { status } }`;

interface UserError {
  code: string;
  message: string;
  field: string[] | null;
}
interface Preview {
  valid: boolean;
  token: string;
  userErrors: UserError[];
  patients: { patientId: string }[];
  lines: { responsibilityId: string }[];
}
interface PatientLines {
  patientId: string;
  lines: string[];
}
interface Payment {
  patientId: string;
  allocations: { responsibilityId: string; amountCents: number }[];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sum = (payments: readonly Payment[]) => payments.reduce((total, p) => total + p.allocations.reduce((s, a) => s + a.amountCents, 0), 0);

/** `count` new patients, each with one charge of LINES_PER_CHARGE open lines (setup, 8 at a time). */
async function patientsWithLines(api: GraphQLHttp, count: number, name: string): Promise<PatientLines[]> {
  const patients: PatientLines[] = [];
  await inBatches(range(count), 8, async (i) => {
    const patientId = await createPatient(api, `${name}${i}`);
    patients[i] = { patientId, lines: await createCharge(api, patientId, Array(LINES_PER_CHARGE).fill(LINE_CENTS)) };
  });
  return patients;
}

/**
 * Payment k: for patient k mod n, its q-th payment (q = ⌊k / n⌋), with 1 or 2 allocations (alternating per patient)
 * of $5.00–$11.00 on the next of its lines. The batch's entries and the baseline's single payments have this shape.
 */
function payment(patients: readonly PatientLines[], k: number): Payment {
  const { patientId, lines } = patients[k % patients.length];
  const q = Math.floor(k / patients.length);
  const allocations = range(1 + ((k + q) % 2)).map((a) => ({ responsibilityId: lines[(2 * q + a) % lines.length], amountCents: 500 + 100 * (k % 7) }));
  return { patientId, allocations };
}

/** What went wrong with a preview (the batch's PAYMENTS payments over `patients`), or null. */
function previewProblem(preview: Preview, payments: readonly Payment[]): string | null {
  if (!preview.valid || preview.userErrors.length) return `preview not valid: ${JSON.stringify(preview.userErrors.slice(0, 3))}`;
  if (!preview.token) return 'preview without a token';
  const patients = new Set(payments.map((p) => p.patientId));
  const lines = new Set(payments.flatMap((p) => p.allocations.map((a) => a.responsibilityId)));
  const seenPatients = new Set(preview.patients.map((p) => p.patientId));
  const seenLines = new Set(preview.lines.map((l) => l.responsibilityId));
  if (preview.patients.length !== patients.size || [...patients].some((id) => !seenPatients.has(id))) {
    return `preview lists ${preview.patients.length} patients (${seenPatients.size} distinct), the batch touches ${patients.size}`;
  }
  if (preview.lines.length !== lines.size || [...lines].some((id) => !seenLines.has(id))) {
    return `preview lists ${preview.lines.length} lines (${seenLines.size} distinct), the payments allocate to ${lines.size}`;
  }
  return null;
}

interface Round {
  createMs: number;
  firstPreviewMs: number;
  previewMs: number;
  postMs: number;
  singleMs: number;
  previewCpuMs: number;
  postCpuMs: number;
  singleCpuMs: number;
  postStatements: number;
  linesPreviewed: number;
  patientsTouched: number;
}

main(async (cleanup) => {
  header('Posting benchmark: a DEPOSIT batch created, previewed and posted over HTTP (SQLite, WAL, synchronous=FULL)');
  if (PAYMENTS > MAX_ENTRIES_PER_ADD) throw new Error(`BENCH_POSTING_PAYMENTS: the batch is created in one call, which holds at most ${MAX_ENTRIES_PER_ADD} entries`);
  const dir = tempDir('posting');
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'posting.sqlite');
  const server = await startServerProcess('graphql-server', 'graphql', {}, serverEnv(dir, `sqlite:${dbPath}`));
  cleanup(() => server.child.stop());
  const api = new GraphQLHttp(server.url, await token('bench-practice'), 16);
  cleanup(() => api.close());

  // ------------------------------------------------------------------------------------------------ setup (not timed)
  const singlePatients = await patientsWithLines(api, SINGLE_PATIENTS, 'Single');
  // The server sets synchronous=FULL on its writer itself (src/db/database.ts); WAL shows as the -wal file beside the database.
  if (!fs.existsSync(`${dbPath}-wal`)) throw new Error(`no ${dbPath}-wal: the server's SQLite database is not in WAL mode`);
  console.log(
    `setup per round: ${PATIENTS} fresh patients × 1 charge of ${LINES_PER_CHARGE} open lines; a DEPOSIT batch of ${PAYMENTS} payments ` +
      `(1–2 allocations each, ${Math.floor(PAYMENTS / PATIENTS)}–${Math.ceil(PAYMENTS / PATIENTS)} payments per patient); ` +
      `${PREVIEWS} previews, 1 post; baseline: ${SINGLES} single recordPayment calls over ${SINGLE_PATIENTS} other patients`,
  );

  const problems: string[] = [];
  let singlesMade = 0;
  const measured = await rounds(async (round): Promise<Round> => {
    const where = `round ${round}${round === 0 ? ' (warm-up)' : ''}`;
    const fail = (what: string) => problems.push(`${where}: ${what}`);
    const patients = await patientsWithLines(api, PATIENTS, `Deposit${round}-`);
    const payments = range(PAYMENTS).map((k) => payment(patients, k));
    const touched = [...new Set(payments.map((p) => p.patientId))];
    const before = await patientVersions(api, touched);

    // create: the batch and its entries in one call
    const expectedTotalCents = sum(payments);
    const createStarted = now();
    const created = await api.ok<{ createPostingBatch: { batch: { id: string; status: string; paymentTotalCents: number } | null; userErrors: UserError[] } }>(CREATE_BATCH, {
      input: {
        kind: 'DEPOSIT',
        reference: `bench deposit ${round}`,
        depositDate: '2026-01-15',
        expectedTotalCents,
        entries: payments.map((p) => ({ payment: { patientId: p.patientId, amountCents: sum([p]), method: 'CARD', allocations: p.allocations } })),
      },
    });
    const createMs = now() - createStarted;
    const batch = created.createPostingBatch.batch;
    if (!batch) throw new Error(`${where}: createPostingBatch refused: ${JSON.stringify(created.createPostingBatch.userErrors)}`);
    if (batch.status !== 'DRAFT' || batch.paymentTotalCents !== expectedTotalCents) fail(`new batch is ${batch.status} with ${batch.paymentTotalCents} cents, expected DRAFT with ${expectedTotalCents}`);

    // preview: several in a row, as the Posting Tool does while staff type
    const previewBody = GraphQLHttp.body(PREVIEW, { id: batch.id });
    const previewMs: number[] = [];
    const tokens = new Set<string>();
    let preview: Preview | undefined;
    await server.child.call('cpu');
    for (let i = 0; i < PREVIEWS; i++) {
      const t0 = now();
      const res = await api.post(previewBody);
      const parsed = JSON.parse(res.body) as { data?: { postingBatch: { preview: Preview } | null }; errors?: unknown[] };
      previewMs.push(now() - t0);
      preview = parsed.data?.postingBatch?.preview;
      if (res.status !== 200 || parsed.errors?.length || !preview) throw new Error(`${where}: preview failed: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
      const problem = previewProblem(preview, payments);
      if (problem) throw new Error(`${where}: ${problem}`);
      tokens.add(preview.token);
    }
    const previewCpuMs = (await server.child.call<number>('cpu')) / PREVIEWS;
    if (tokens.size !== 1) fail(`${PREVIEWS} previews of an unchanged batch gave ${tokens.size} different tokens`);

    // post: once, with the preview's token
    const statementsBefore = await server.child.call<number>('statements');
    const postStarted = now();
    const posted = await api.ok<{ postPostingBatch: { batch: { status: string } | null; balances: { patientId: string; version: number }[]; userErrors: UserError[] } }>(POST_BATCH, {
      input: { batchId: batch.id, previewToken: preview!.token },
    });
    const postMs = now() - postStarted;
    const postCpuMs = await server.child.call<number>('cpu');
    const postStatements = (await server.child.call<number>('statements')) - statementsBefore;
    const result = posted.postPostingBatch;
    if (!result.batch || result.userErrors.length) throw new Error(`${where}: postPostingBatch refused: ${JSON.stringify(result.userErrors)}`);

    // checks: POSTED, and every touched patient's version up by exactly one, in the payload and read back
    if (result.batch.status !== 'POSTED') fail(`posted batch answered status ${result.batch.status}`);
    const stored = await api.ok<{ postingBatch: { status: string } | null }>(BATCH_STATUS, { id: batch.id });
    if (stored.postingBatch?.status !== 'POSTED') fail(`posted batch reads back as ${stored.postingBatch?.status ?? 'missing'}`);
    const answered = new Map(result.balances.map((b) => [b.patientId, b.version]));
    if (result.balances.length !== touched.length) fail(`post answered ${result.balances.length} balances for ${touched.length} touched patients`);
    const after = await patientVersions(api, touched);
    const wrong = touched.filter((id) => after.get(id) !== before.get(id)! + 1 || answered.get(id) !== before.get(id)! + 1);
    if (wrong.length) {
      const id = wrong[0];
      fail(`${wrong.length} of ${touched.length} patients' versions did not rise by exactly one (first: ${before.get(id)} → read ${after.get(id)}, answered ${answered.get(id)})`);
    }

    // baseline: single payments of the same shape, one at a time, on patients outside the batch
    const singleMs: number[] = [];
    await server.child.call('cpu');
    for (let i = 0; i < SINGLES; i++) {
      const p = payment(singlePatients, singlesMade++);
      const t0 = now();
      await recordPayment(api, p.patientId, p.allocations);
      singleMs.push(now() - t0);
    }
    const singleCpuMs = (await server.child.call<number>('cpu')) / SINGLES;

    return {
      createMs,
      firstPreviewMs: previewMs[0],
      previewMs: median(previewMs),
      postMs,
      singleMs: median(singleMs),
      previewCpuMs,
      postCpuMs,
      singleCpuMs,
      postStatements,
      linesPreviewed: preview!.lines.length,
      patientsTouched: touched.length,
    };
  });

  const of = (pick: (r: Round) => number) => measured.map(pick);
  const mid = (pick: (r: Round) => number) => median(of(pick));
  const post = mid((r) => r.postMs);
  const preview = mid((r) => r.previewMs);
  const single = mid((r) => r.singleMs);
  const postVsSingles = post / (PAYMENTS * single);
  const previewVsPost = preview / post;
  const shape = `${PAYMENTS} payments, ${fmt(mid((r) => r.patientsTouched), 0)} patients, ${fmt(mid((r) => r.linesPreviewed), 0)} lines`;

  printTable(
    `(a) one DEPOSIT batch of ${shape}, ms over HTTP (median of ${ROUNDS} rounds, min–max in brackets; a fresh batch and fresh patients each round)`,
    ['operation', 'ms', 'server CPU ms'],
    [
      [`createPostingBatch with ${PAYMENTS} entries (one call)`, spread(of((r) => r.createMs), 1), ''],
      [`preview, median of ${PREVIEWS} in a row`, spread(of((r) => r.previewMs), 1), fmt(mid((r) => r.previewCpuMs), 1)],
      ['preview, the first of the round (right after create)', spread(of((r) => r.firstPreviewMs), 1), ''],
      [`postPostingBatch (one transaction, ${fmt(mid((r) => r.postStatements), 0)} SQL statements)`, spread(of((r) => r.postMs), 1), fmt(mid((r) => r.postCpuMs), 1)],
      [`baseline: one recordPayment at c=1, median of ${SINGLES}`, spread(of((r) => r.singleMs), 2), fmt(mid((r) => r.singleCpuMs), 2)],
      [`${PAYMENTS} × one recordPayment (posting them one by one)`, fmt(PAYMENTS * single, 1), fmt(PAYMENTS * mid((r) => r.singleCpuMs), 1)],
    ],
    [
      'ms: request to parsed answer on the load generator (CPU 1). create: shape and ownership checked, nothing applied; preview: postingBatch(id) { preview { … } }, changes nothing.',
      'server CPU: the server process (CPU 0) per call, averaged, including what it does after answering (audit events, publishing balances).',
      'SQL statements: what the TypeORM logger counts during the post. The baseline payments have 1–2 allocations each, like every entry, on patients outside the batches.',
      'Checked every round: every preview valid, listing every touched patient and line, with one token; the post accepted, the batch POSTED, every touched version +1.',
    ],
  );

  const failed = problems.length > 0;
  printTable(
    `Summary (${new Date().toISOString().slice(0, 10)}; ${cpus()}; server on CPU 0, load on CPU 1; SQLite WAL, synchronous=FULL; median of ${ROUNDS} rounds)`,
    ['measure', 'measured', 'target', 'result'],
    [
      [`post ÷ (${PAYMENTS} × one recordPayment at c=1)`, `${fmt(postVsSingles, 3)}× (${fmt(post, 1)} / ${fmt(PAYMENTS * single, 1)} ms)`, '< 1 (well under)', postVsSingles < 1 ? 'PASS' : 'MISS'],
      ['preview ÷ post', `${fmt(previewVsPost, 2)}× (${fmt(preview, 1)} / ${fmt(post, 1)} ms)`, '(for comparison)', ''],
      [`createPostingBatch with ${PAYMENTS} entries`, `${fmt(mid((r) => r.createMs), 1)} ms (${ratio(mid((r) => r.createMs), post, 2)} of post)`, '(for comparison)', ''],
      [`preview of ${shape}`, `${fmt(preview, 1)} ms`, '(for comparison)', ''],
      ['correctness: valid previews, POSTED, versions +1 exactly', failed ? `${problems.length} problems` : 'all rounds', 'no problem', failed ? 'FAIL' : 'PASS'],
    ],
  );

  if (failed) {
    console.log(`\nFAIL:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  return 0;
});
