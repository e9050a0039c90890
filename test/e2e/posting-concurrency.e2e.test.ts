/**
 * Two posting batches over the same patients, posted at the same time (docs/design.md §8.1): the touched patients are
 * locked in a stable order, so whatever order the entries are in, both succeed or one is refused with PREVIEW_STALE
 * (its preview saw the patients before the other batch changed them). Never a deadlock, a 500 or a half-posted batch;
 * afterwards every patient's ledger agrees with a recomputation from its rows.
 *
 * With TEST_DB=postgres TEST_INSTANCES=2 the two batches go to two server instances on one database; on SQLite both go
 * to the single instance.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  BalanceDocument,
  PatientPaymentsDocument,
  PostingCreateBatchDocument,
  PostingEntryInput,
  PostingPostDocument,
  PostingPostMutation,
  PostingPreviewDocument,
  CreatePostingBatchInput,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, GraphQLResponse, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { Run, Sql, checkPatient } from './ledger-check';

let server: TestServer;
let manager: Caller;
let sql: Sql;
let run: Run;

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  manager = await server.caller('BILLING_MANAGER');
  sql = (text, params) => server.instances[0].services.db.query(text, params);
  run = <R, V>(document: TypedDocumentNode<R, V>, variables: V) => server.ok(manager, document, variables);
});
afterAll(() => server.stop());

const ROUNDS = 6;
const PATIENTS = 4;

async function draft(input: CreatePostingBatchInput, instance: number): Promise<string> {
  const created = (await server.ok(manager, PostingCreateBatchDocument, { input }, instance)).createPostingBatch;
  expect(created.userErrors).toEqual([]);
  return created.batch!.id;
}
async function previewToken(batchId: string, instance: number): Promise<string> {
  const seen = (await server.ok(manager, PostingPreviewDocument, { id: batchId }, instance)).postingBatch!.preview;
  expect(seen.userErrors).toEqual([]);
  expect(seen.valid).toBe(true);
  return seen.token;
}
async function post(batchId: string, token: string, instance: number): Promise<GraphQLResponse<PostingPostMutation>> {
  return server.gql(manager, PostingPostDocument, { input: { batchId, previewToken: token } }, instance);
}
/** A posting answer that is a clean success or a clean PREVIEW_STALE: never a GraphQL error or a 500. */
function outcomeOf(response: GraphQLResponse<PostingPostMutation>): 'posted' | 'stale' {
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  const payload = response.data!.postPostingBatch;
  if (payload.userErrors.length === 0) {
    expect(payload.batch!.status).toBe('POSTED');
    return 'posted';
  }
  expect(payload.userErrors.map((e) => e.code)).toEqual(['PREVIEW_STALE']);
  expect(payload.batch).toBeNull();
  expect(payload.balances).toEqual([]);
  return 'stale';
}

async function versions(patientIds: string[]): Promise<number[]> {
  return Promise.all(patientIds.map(async (id) => (await server.ok(manager, BalanceDocument, { id })).patient!.balance.version));
}

test('two batches over the same patients, entries in opposite orders, posted at once on two instances: both post or one is PREVIEW_STALE', async () => {
  const patients: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < PATIENTS; i++) {
    const patientId = await newPatient(server, manager);
    patients.push(patientId);
    lines.push((await newCharge(server, manager, patientId, [10_000])).lineIds[0]);
  }
  let expectedVersions = await versions(patients);

  for (let round = 0; round < ROUNDS; round++) {
    // A deposit paying $10.00 on every line, patient 0 first; adjustments writing off $5.00 of each, the last patient first.
    const deposit: PostingEntryInput[] = patients.map((patientId, i) => ({ payment: { patientId, amountCents: 1000, method: 'CHECK', allocations: [{ responsibilityId: lines[i], amountCents: 1000 }] } }));
    const adjustments: PostingEntryInput[] = lines.map((responsibilityId): PostingEntryInput => ({ writeOff: { responsibilityId, amountCents: 500, reason: 'SMALL_BALANCE' } })).reverse();
    const x = await draft({ kind: 'DEPOSIT', reference: `Deposit ${round}`, entries: deposit }, 0);
    const y = await draft({ kind: 'ADJUSTMENT', reference: `Adjustments ${round}`, entries: adjustments }, 1);

    // Even rounds: both previews before either post, so at most one can post. Odd rounds: the second preview races the
    // first post, so both may post.
    let responses: GraphQLResponse<PostingPostMutation>[];
    if (round % 2 === 0) {
      const [tx, ty] = await Promise.all([previewToken(x, 0), previewToken(y, 1)]);
      responses = await Promise.all([post(x, tx, 0), post(y, ty, 1)]);
    } else {
      const tx = await previewToken(x, 0);
      responses = await Promise.all([post(x, tx, 0), previewToken(y, 1).then((ty) => post(y, ty, 1))]);
    }
    const [ox, oy] = responses.map(outcomeOf);
    expect([ox, oy]).toContain('posted');
    if (round % 2 === 0) expect([ox, oy].sort()).toEqual(['posted', 'stale']);

    // A stale one, previewed again, posts.
    for (const [batchId, outcome, instance] of [[x, ox, 0], [y, oy, 1]] as const) {
      if (outcome === 'stale') expect(outcomeOf(await post(batchId, await previewToken(batchId, instance), instance))).toBe('posted');
    }
    // Each batch moved each patient by exactly one.
    expectedVersions = expectedVersions.map((v) => v + 2);
    expect(await versions(patients)).toEqual(expectedVersions);
  }

  for (const [i, patientId] of patients.entries()) {
    const { problems, snapshot } = await checkPatient(run, sql, patientId);
    expect(problems).toEqual([]);
    expect(snapshot.balance).toMatchObject({ paidCents: 1000 * ROUNDS, writtenOffCents: 500 * ROUNDS, outstandingCents: 10_000 - 1500 * ROUNDS, creditCents: 0 });
    expect(snapshot.lines.find((l) => l.id === lines[i])!.writeOffs).toHaveLength(ROUNDS);
    const payments = (await server.ok(manager, PatientPaymentsDocument, { id: patientId, first: 100 })).patient!.payments.edges;
    expect(payments).toHaveLength(ROUNDS);
  }
});

test('several deposits over overlapping patients in shuffled orders, all at once: none half-posted, the ledger consistent', async () => {
  const patients: string[] = [];
  for (let i = 0; i < PATIENTS; i++) patients.push(await newPatient(server, manager));
  const BATCHES = 6;
  // Batch k pays patients in a rotated order: every pair of batches shares every patient, in different orders.
  const batchIds: string[] = [];
  for (let k = 0; k < BATCHES; k++) {
    const order = patients.map((_, i) => patients[(i + k) % PATIENTS]);
    if (k % 2 === 1) order.reverse();
    batchIds.push(await draft({ kind: 'DEPOSIT', reference: `Rush ${k}`, expectedTotalCents: 100 * (k + 1) * PATIENTS, entries: order.map((patientId) => ({ payment: { patientId, amountCents: 100 * (k + 1), method: 'CASH' } })) }, k));
  }
  const pending = new Set(batchIds);
  let attempts = 0;
  while (pending.size > 0) {
    attempts++;
    expect(attempts).toBeLessThanOrEqual(BATCHES + 1);
    const ids = [...pending];
    const tokens = await Promise.all(ids.map((id, k) => previewToken(id, k)));
    const responses = await Promise.all(ids.map((id, k) => post(id, tokens[k], k)));
    const results = responses.map(outcomeOf);
    expect(results).toContain('posted');
    ids.forEach((id, k) => results[k] === 'posted' && pending.delete(id));
  }

  const credit = (100 * BATCHES * (BATCHES + 1)) / 2;
  for (const patientId of patients) {
    const { problems, snapshot } = await checkPatient(run, sql, patientId);
    expect(problems).toEqual([]);
    expect(snapshot.balance).toMatchObject({ creditCents: credit, version: BATCHES });
    expect(snapshot.payments).toHaveLength(BATCHES);
  }
});
