/**
 * Importing an insurer's 835 over real HTTP (docs/design.md §9.1): each payment a DRAFT REMITTANCE batch of entries
 * matched to the practice's charges, what cannot be matched in the batch's issues, and the batches previewed and
 * posted like any other (the patients' PR as each test writes it out). Refusals: INVALID_X12, DUPLICATE_REMITTANCE
 * (the same file, a payment imported before or twice in the file), FILE_TOO_LARGE and the body limits (413), roles,
 * idempotency. A fuzz of malformed files shows only such refusals, never a 500, and the server keeps serving.
 */
import crypto from 'node:crypto';
import { print } from 'graphql';
import {
  BalanceDocument,
  CreateChargeDocument,
  EraChargeLinesDocument,
  EraImportDocument,
  ImportRemittanceFileInput,
  RecordPaymentDocument,
} from '../__generated__/graphql';
import { Caller, NO_CALLER_LIMITS, TestServer, startTestServer } from '../harness';
import { newPatient, previewAndPost } from '../fixtures';
import { ClaimSpec, LineSpec, PaymentSpec, era835 } from '../support/era-file';
import { mulberry32, pick, randomInt } from '../seeded-random';

let server: TestServer;
let billing: Caller;
let manager: Caller;
let frontDesk: Caller;
let viewer: Caller;
let otherPractice: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  billing = await server.caller('BILLING');
  manager = await server.caller('BILLING_MANAGER');
  frontDesk = await server.caller('FRONT_DESK');
  viewer = await server.caller('VIEWER');
  otherPractice = await server.caller('BILLING', `${server.practice}-other`);
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const unique = (prefix: string) => `${prefix}-${crypto.randomBytes(4).toString('hex').toUpperCase()}`;

async function charge(patientId: string, fields: { claimNumber?: string; lineControlNumber?: string; procedureCode?: string; serviceDate?: string; billedCents?: number }) {
  const data = await server.ok(billing, CreateChargeDocument, {
    input: { patientId, serviceDate: fields.serviceDate ?? '2026-01-05', procedureCode: fields.procedureCode ?? '99213', billedCents: fields.billedCents ?? 20_000, claimNumber: fields.claimNumber, lineControlNumber: fields.lineControlNumber },
  });
  if (!data.createCharge.charge) throw new Error(JSON.stringify(data.createCharge.userErrors));
  return data.createCharge.charge.id;
}

async function importFile(input: ImportRemittanceFileInput, caller: Caller = billing) {
  return (await server.ok(caller, EraImportDocument, { input })).importRemittanceFile;
}

/** Imports, expecting it accepted. */
async function imported(content: string, caller: Caller = billing) {
  const result = await importFile({ content }, caller);
  expect(result.userErrors).toEqual([]);
  return result.batches;
}

async function balance(patientId: string) {
  return (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
}
async function lines(chargeId: string) {
  return (await server.ok(manager, EraChargeLinesDocument, { id: chargeId })).charge!.responsibilities.map((r) => [r.origin, r.kind, r.status, r.amountCents, r.paidCents]);
}

const line = (extra: Partial<LineSpec> = {}): LineSpec => ({ code: '99213', chargeCents: 20_000, date: '2026-01-05', ...extra });
const pay = (claims: ClaimSpec[], extra: Partial<PaymentSpec> = {}): PaymentSpec => ({ trace: unique('EFT'), date: '2026-01-15', payerName: 'ACME HEALTH PLAN', claims, ...extra });
const codes = (issues: { code: string }[]) => issues.map((i) => i.code);

/** POSTs a raw body to /graphql, as a client that builds its own request would. */
async function postRaw(body: string, caller: Caller | null, headers: Record<string, string> = {}) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${caller.token}` } : {}), ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, json: (() => { try { return JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }; } catch { return null; } })() };
}
const importBody = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ query: print(EraImportDocument), variables: { input: { content } }, ...extra });

// ---------------------------------------------------------------------------------------------------------------

describe('a file becomes DRAFT remittance batches that post like any other', () => {
  test('matched claims are entries with their PR, the rest issues; preview and post give the patients that PR', async () => {
    const ann = await newPatient(server, billing, 'Ann', 'Era');
    const bob = await newPatient(server, billing, 'Bob', 'Era');
    const pcnA = unique('PCN');
    const pcnB = unique('PCN');
    const controlB = unique('LC');
    const annVisit = await charge(ann, { claimNumber: pcnA });
    const annLab = await charge(ann, { claimNumber: pcnA, procedureCode: '81002', billedCents: 1_000 });
    const bobVisit = await charge(bob, { claimNumber: pcnB, lineControlNumber: controlB, serviceDate: '2026-01-06' });
    const first = pay(
      [
        {
          claimNumber: pcnA,
          payerClaimNumber: 'ICN-A',
          lines: [
            line({ adjustments: [{ group: 'PR', reason: '1', cents: 5_000 }, { group: 'PR', reason: '2', cents: 1_500 }, { group: 'CO', reason: '45', cents: 3_000 }] }),
            line({ code: '81002', chargeCents: 1_000, adjustments: [{ group: 'PR', reason: '2', cents: 200 }] }),
          ],
        },
        { claimNumber: 'NOT-OURS', lines: [line()] },
        { claimNumber: pcnB, payerClaimNumber: 'ICN-B', lines: [line({ date: '2026-01-06', control: controlB, adjustments: [{ group: 'PR', reason: '3', cents: 2_500 }] })] },
        { claimNumber: pcnB, status: '4', lines: [line({ adjustments: [{ group: 'CO', reason: '50', cents: 20_000 }] })] },
      ],
      { payerName: 'ACME HEALTH PLAN' },
    );
    const second = pay([{ claimNumber: pcnA, claimAdjustments: [{ group: 'PR', reason: '1', cents: 100 }], lines: [line(), line({ code: '81002', chargeCents: 1_000 })] }], { payerName: 'OTHER PLAN' });
    const batches = await imported(era835([first, second]));

    expect(batches.map((b) => [b.kind, b.status, b.reference, b.payerName, b.depositDate])).toEqual([
      ['REMITTANCE', 'DRAFT', first.trace, 'ACME HEALTH PLAN', '2026-01-15'],
      ['REMITTANCE', 'DRAFT', second.trace, 'OTHER PLAN', '2026-01-15'],
    ]);
    // BPR02: what the payer paid (shown, not balanced against PR).
    expect(batches[0].expectedTotalCents).toBe(10_500 + 800 + 20_000 + 17_500 + 0);
    const [one, two] = batches;
    // Expected PR per matched service line: $65.00 and $2.00 for Ann's claim, $25.00 for Bob's.
    expect(one.entries.edges.map((e) => [e.node.kind, e.node.charge?.id, e.node.patient.id, e.node.amountCents])).toEqual([
      ['REMITTANCE', annVisit, ann, 6_500],
      ['REMITTANCE', annLab, ann, 200],
      ['REMITTANCE', bobVisit, bob, 2_500],
    ]);
    expect(one.issues.map((i) => [i.code, i.claimNumber, i.payerClaimNumber])).toEqual([
      ['CLAIM_NOT_FOUND', 'NOT-OURS', 'ICN-NOT-OURS'],
      ['DENIED', pcnB, `ICN-${pcnB}`],
    ]);
    expect(one.issues.every((i) => typeof i.segment === 'number' && i.message.length > 20)).toBe(true);
    expect(two.entries.edges).toEqual([]);
    expect(codes(two.issues)).toEqual(['CLAIM_LEVEL_PR']);

    // Importing changes no balance; preview shows what posting will, and posting does it.
    expect((await balance(ann)).version).toBe(2);
    const { preview, posted } = await previewAndPost(server, billing, one.id);
    expect(preview.patients.map((p) => [p.patientId, p.before.responsibilityCents, p.after.responsibilityCents]).sort()).toEqual(
      [
        [ann, 0, 6_700],
        [bob, 0, 2_500],
      ].sort(),
    );
    expect(posted.balances.map((b) => [b.patientId, b.outstandingCents]).sort()).toEqual(
      [
        [ann, 6_700],
        [bob, 2_500],
      ].sort(),
    );
    expect(await balance(ann)).toMatchObject({ responsibilityCents: 6_700, outstandingCents: 6_700, version: 3 });
    expect(await balance(bob)).toMatchObject({ responsibilityCents: 2_500, outstandingCents: 2_500, version: 2 });
    expect(await lines(annVisit)).toEqual([
      ['REMITTANCE', 'DEDUCTIBLE', 'ACTIVE', 5_000, 0],
      ['REMITTANCE', 'COINSURANCE', 'ACTIVE', 1_500, 0],
    ]);
    expect(await lines(bobVisit)).toEqual([['REMITTANCE', 'COPAY', 'ACTIVE', 2_500, 0]]);
  });

  test('a reversal with its correction replaces the earlier remittance (payments move); a reversal alone reverses it (payments go to credit)', async () => {
    const pat = await newPatient(server, billing, 'Rae', 'Versal');
    const pcn = unique('PCN');
    const visit = await charge(pat, { claimNumber: pcn });
    const original = pay([{ claimNumber: pcn, payerClaimNumber: 'ICN-1', lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 2_000 }, { group: 'CO', reason: '45', cents: 3_000 }] })] }]);
    const [first] = await imported(era835([original]));
    await previewAndPost(server, billing, first.id);
    expect(await lines(visit)).toEqual([['REMITTANCE', 'COINSURANCE', 'ACTIVE', 2_000, 0]]);
    // The patient pays the $20.00.
    const lineId = (await server.ok(manager, EraChargeLinesDocument, { id: visit })).charge!.responsibilities[0].id;
    const paid = await server.ok(billing, RecordPaymentDocument, { input: { patientId: pat, amountCents: 2_000, method: 'CARD', allocations: [{ responsibilityId: lineId, amountCents: 2_000 }] } });
    expect(paid.recordPayment.userErrors).toEqual([]);

    // The payer reverses the claim (every amount negated) and pays it again with coinsurance of $12.00.
    const reversal: ClaimSpec = {
      claimNumber: pcn,
      status: '22',
      payerClaimNumber: 'ICN-1',
      lines: [line({ chargeCents: -20_000, adjustments: [{ group: 'PR', reason: '2', cents: -2_000 }, { group: 'CO', reason: '45', cents: -3_000 }] })],
    };
    const correction: ClaimSpec = { claimNumber: pcn, payerClaimNumber: 'ICN-2', lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 1_200 }, { group: 'CO', reason: '45', cents: 3_000 }] })] };
    const [corrected] = await imported(era835([pay([reversal, correction])]));
    expect(corrected.issues).toEqual([]);
    expect(corrected.entries.edges.map((e) => [e.node.kind, e.node.charge?.id, e.node.amountCents])).toEqual([['REMITTANCE', visit, 1_200]]);
    await previewAndPost(server, billing, corrected.id);
    // The original line is reversed; the payment moved to the corrected line and the rest is credit.
    expect(await lines(visit)).toEqual([
      ['REMITTANCE', 'COINSURANCE', 'REVERSED', 2_000, 0],
      ['REMITTANCE', 'COINSURANCE', 'ACTIVE', 1_200, 1_200],
    ]);
    expect(await balance(pat)).toMatchObject({ responsibilityCents: 1_200, paidCents: 1_200, outstandingCents: 0, creditCents: 800 });

    // Later the payer takes the corrected claim back too, with nothing after it.
    const takeBack: ClaimSpec = {
      claimNumber: pcn,
      status: '22',
      payerClaimNumber: 'ICN-2',
      lines: [line({ chargeCents: -20_000, adjustments: [{ group: 'PR', reason: '2', cents: -1_200 }, { group: 'CO', reason: '45', cents: -3_000 }] })],
    };
    const [reversed] = await imported(era835([pay([takeBack])]));
    expect(reversed.entries.edges.map((e) => [e.node.kind, e.node.charge?.id])).toEqual([['REVERSE_REMITTANCE', visit]]);
    await previewAndPost(server, billing, reversed.id);
    expect(await balance(pat)).toMatchObject({ responsibilityCents: 0, outstandingCents: 0, creditCents: 2_000 });

    // A reversal of nothing recorded is an issue, not a guess.
    const [orphan] = await imported(era835([pay([{ ...takeBack, lines: [line({ chargeCents: -20_000, adjustments: [{ group: 'PR', reason: '2', cents: -999 }] })] }])]));
    expect(orphan.entries.edges).toEqual([]);
    expect(codes(orphan.issues)).toEqual(['REVERSAL_WITHOUT_ORIGINAL']);
  });

  test("another practice's charges are never matched", async () => {
    const pat = await newPatient(server, billing, 'Own', 'Practice');
    const pcn = unique('PCN');
    await charge(pat, { claimNumber: pcn });
    const [batch] = await imported(era835([pay([{ claimNumber: pcn, lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 100 }] })] }])]), otherPractice);
    expect(batch.entries.edges).toEqual([]);
    expect(codes(batch.issues)).toEqual(['CLAIM_NOT_FOUND']);
  });
});

describe('refusals: the file is taken whole or not at all', () => {
  test('INVALID_X12 says what is wrong and where; nothing is imported', async () => {
    const good = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    const broken = good.replace(/CLP\*([^*]+)\*1\*/, 'CLP*$1*77*');
    const result = await importFile({ content: broken });
    expect(result.batches).toEqual([]);
    expect(result.userErrors).toEqual([{ code: 'INVALID_X12', message: expect.stringMatching(/^Segment 10 \(CLP\): CLP02 '77' is not a 5010 claim status code/), field: ['input', 'content'] }]);
    const notX12 = await importFile({ content: 'Dear provider, your payment is attached.' });
    expect(notX12.userErrors.map((e) => e.code)).toEqual(['INVALID_X12']);
    // The good file still imports: the refusal kept nothing.
    expect(await imported(good)).toHaveLength(1);
  });

  test('DUPLICATE_REMITTANCE: the same file again, a payment imported before, a payment twice in one file', async () => {
    const payment = pay([{ claimNumber: unique('PCN'), lines: [line()] }]);
    const file = era835([payment]);
    await imported(file);
    const again = await importFile({ content: file });
    expect(again.userErrors).toEqual([{ code: 'DUPLICATE_REMITTANCE', message: expect.stringMatching(/^This file was already imported on \d{4}-\d{2}-\d{2}/), field: ['input', 'content'] }]);
    // Another file (a further payment, CRLF line ends) that holds the same payment.
    const other = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }]), payment], { terminator: '~\r\n' });
    const repeated = await importFile({ content: other });
    expect(repeated.userErrors.map((e) => [e.code, e.message])).toEqual([['DUPLICATE_REMITTANCE', expect.stringMatching(new RegExp(`^Payment ${payment.trace} from ACME HEALTH PLAN \\(segment \\d+\\) was already imported on`))]]);
    const twice = pay([{ claimNumber: unique('PCN'), lines: [line()] }]);
    const doubled = await importFile({ content: era835([twice, twice]) });
    expect(doubled.userErrors.map((e) => [e.code, e.message])).toEqual([['DUPLICATE_REMITTANCE', expect.stringMatching(new RegExp(`^Payment ${twice.trace} from ACME HEALTH PLAN appears twice in this file`))]]);
    // The same trace number from another payer is another payment.
    expect(await imported(era835([{ ...payment, payerId: '1000000009', payerName: 'SOMEONE ELSE' }]))).toHaveLength(1);
  });

  test('concurrent imports of one file: exactly one is taken, the others are DUPLICATE_REMITTANCE; with one key, all get its batches', async () => {
    const file = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }]), pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    const racing = await Promise.all([0, 1, 2, 3].map(() => importFile({ content: file })));
    expect(racing.filter((r) => r.userErrors.length === 0).map((r) => r.batches.length)).toEqual([2]);
    expect(racing.flatMap((r) => r.userErrors.map((e) => e.code))).toEqual(['DUPLICATE_REMITTANCE', 'DUPLICATE_REMITTANCE', 'DUPLICATE_REMITTANCE']);

    const keyed = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    const key = unique('key');
    const retries = await Promise.all([0, 1, 2].map(() => importFile({ content: keyed, idempotencyKey: key })));
    expect(retries.map((r) => r.userErrors)).toEqual([[], [], []]);
    expect(new Set(retries.map((r) => r.batches.map((b) => b.id).join())).size).toBe(1);
  });

  test('an idempotency key replays the first result and changes nothing; with another file it is IDEMPOTENCY_KEY_REUSED', async () => {
    const file = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    const key = unique('key');
    const first = await importFile({ content: file, idempotencyKey: key });
    expect(first.userErrors).toEqual([]);
    const retry = await importFile({ content: file, idempotencyKey: key });
    expect(retry).toEqual(first);
    const other = await importFile({ content: era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]), idempotencyKey: key });
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  test('BILLING and up import; FRONT_DESK and VIEWER are FORBIDDEN', async () => {
    const file = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    for (const caller of [frontDesk, viewer]) {
      const result = await server.gql(caller, EraImportDocument, { input: { content: file } });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    expect(await imported(file, manager)).toHaveLength(1);
  });
});

describe('size: 1 MiB bodies, except one importRemittanceFile mutation whose file may be 5 MiB', () => {
  const MiB = 1024 * 1024;
  // Text before ISA is allowed, so spaces make a valid file of any size cheaply.
  const padded = (bytes: number) => {
    const file = era835([pay([{ claimNumber: unique('PCN'), lines: [line()] }])]);
    return ' '.repeat(bytes - Buffer.byteLength(file)) + file;
  };

  test('a 2 MiB file is imported; a file just over 5 MiB is FILE_TOO_LARGE; a body over 6 MiB is 413 from its Content-Length, never held whole', async () => {
    const two = await postRaw(importBody(padded(2 * MiB)), billing);
    expect(two.status).toBe(200);
    expect(two.json?.data?.importRemittanceFile.userErrors).toEqual([]);
    expect(two.json?.data?.importRemittanceFile.batches).toHaveLength(1);

    const over = await postRaw(importBody(padded(5 * MiB + 1)), billing);
    expect(over.status).toBe(200);
    expect(over.json?.data?.importRemittanceFile.userErrors).toEqual([
      { code: 'FILE_TOO_LARGE', message: 'The file is 5,242,881 bytes; an 835 import takes at most 5,242,880 (5 MiB). Ask the clearinghouse to split it.', field: ['input', 'content'] },
    ]);

    const huge = await postRaw(importBody(' '.repeat(6 * MiB + 10)), billing);
    expect(huge.status).toBe(413);
    expect(huge.json).toEqual({ errors: [{ message: expect.stringMatching(/^The request body is larger than 6291456 bytes: an 835 file/), extensions: { code: 'BAD_REQUEST' } }] });
  });

  test('a large body that is not a single importRemittanceFile mutation, or from a caller who may not import, is 413', async () => {
    const content = padded(2 * MiB);
    // Another operation beside it, another mutation, or the size in another variable.
    const beside = JSON.stringify({ query: `mutation M($input: ImportRemittanceFileInput!) { importRemittanceFile(input: $input) { userErrors { code } } writeOffReasons: importRemittanceFile(input: $input) { userErrors { code } } }`, variables: { input: { content } } });
    const elsewhere = JSON.stringify({ query: print(EraImportDocument), variables: { input: { content: padded(1000) }, padding: content } });
    const query = JSON.stringify({ query: '{ writeOffReasons { code } }', variables: { padding: content } });
    for (const body of [beside, elsewhere, query]) {
      const answer = await postRaw(body, billing);
      expect({ status: answer.status, json: answer.json }).toEqual({ status: 413, json: { errors: [{ message: 'The request body is larger than 1048576 bytes.', extensions: { code: 'BAD_REQUEST' } }] } });
    }
    for (const caller of [frontDesk, null]) expect((await postRaw(importBody(content), caller)).status).toBe(413);
    // Chunked (no Content-Length) is held to the same limits while it streams in.
    const stream = (text: string) =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        },
      });
    const chunked = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${frontDesk.token}` }, body: stream(query), duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    const chunkedImport = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${billing.token}` }, body: stream(importBody(content)), duplex: 'half' } as RequestInit);
    expect(chunkedImport.status).toBe(200);
    expect(((await chunkedImport.json()) as { data: { importRemittanceFile: { userErrors: unknown[] } } }).data.importRemittanceFile.userErrors).toEqual([]);
  });
});

describe('fuzz: malformed 835s through the API', () => {
  test('only refusals (INVALID_X12 and the like) or accepted imports, never a 500; the server keeps serving', async () => {
    const rand = mulberry32(835);
    const allowed = new Set(['INVALID_X12', 'DUPLICATE_REMITTANCE', 'FILE_TOO_LARGE', 'TOO_MANY_ITEMS']);
    const pat = await newPatient(server, billing, 'Fuzz', 'Era');
    const pcn = unique('PCN');
    await charge(pat, { claimNumber: pcn });
    const base = () =>
      era835(
        [
          pay([
            { claimNumber: pcn, lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 100 }, { group: 'CO', reason: '45', cents: 900 }] }), line({ code: '81002', chargeCents: 500, control: 'X1' })] },
            { claimNumber: 'P2', status: pick(rand, ['1', '4', '22']), claimAdjustments: [{ group: 'PR', reason: '1', cents: 300 }], lines: [line()] },
          ], { plb: rand() < 0.3 ? [{ reason: 'WO', cents: 50 }] : [] }),
        ],
        { terminator: pick(rand, ['~', '~\n', '~\r\n']), before: rand() < 0.2 ? 'Remittance advice\r\n' : '' },
      );
    const mutate = (text: string): string => {
      const chars = [...text];
      const segments = text.split('~');
      switch (randomInt(rand, 0, 9)) {
        case 0: // cut short
          return text.slice(0, randomInt(rand, 0, text.length - 1));
        case 1: // flip characters
          for (let i = 0; i < randomInt(rand, 1, 8); i++) chars[randomInt(rand, 0, chars.length - 1)] = pick(rand, ['*', ':', '~', '^', 'A', '9', '-', '.', ' ', '\u0000', 'é', '\n']);
          return chars.join('');
        case 2: // drop a segment
          segments.splice(randomInt(rand, 0, segments.length - 1), 1);
          return segments.join('~');
        case 3: // repeat a segment
          {
            const i = randomInt(rand, 0, segments.length - 1);
            segments.splice(i, 0, segments[i]);
          }
          return segments.join('~');
        case 4: // swap two segments
          {
            const i = randomInt(rand, 0, segments.length - 1);
            const j = randomInt(rand, 0, segments.length - 1);
            [segments[i], segments[j]] = [segments[j], segments[i]];
          }
          return segments.join('~');
        case 5: // an element emptied, or made huge or strange
          {
            const i = randomInt(rand, 3, segments.length - 2);
            const elements = segments[i].split('*');
            const k = randomInt(rand, 1, Math.max(1, elements.length - 1));
            elements[k] = pick(rand, ['', '-0', '1e9', '99999999999999999999.99', '12.345', 'x'.repeat(300), '--1', '0000000000001', 'NaN']);
            segments[i] = elements.join('*');
          }
          return segments.join('~');
        case 6: // random bytes
          return Array.from({ length: randomInt(rand, 0, 400) }, () => String.fromCharCode(randomInt(rand, 0, 0x7f))).join('');
        case 7: // another delimiter in ISA
          return text.replace(/^ISA\*/, `ISA${pick(rand, ['|', '+', '~', ':', 'A'])}`);
        case 8: // amounts changed (balancing breaks, not the syntax)
          return text.replace(/\*(\d+)\.(\d\d)/g, (m, d: string, c: string) => (rand() < 0.3 ? `*${Number(d) + randomInt(rand, -5, 5)}.${c}` : m));
        default: // two mutations
          return mutate(mutate(text));
      }
    };
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const content = mutate(base());
      const result = await postRaw(importBody(content), billing);
      expect({ i, status: result.status, errors: result.json?.errors }).toEqual({ i, status: 200, errors: undefined });
      const payload = result.json!.data.importRemittanceFile as { batches: unknown[]; userErrors: { code: string }[] };
      if (payload.userErrors.length === 0) accepted++;
      else {
        refused++;
        for (const e of payload.userErrors) expect({ i, code: e.code, allowed: allowed.has(e.code) }).toEqual({ i, code: e.code, allowed: true });
      }
    }
    expect(refused).toBeGreaterThan(150);
    expect(accepted).toBeGreaterThan(0);
    // Still serving, with no internal error logged.
    expect((await balance(pat)).version).toBe(1);
    expect(server.logs.filter((l) => /"level":"error"/.test(l))).toEqual([]);
  });
});
