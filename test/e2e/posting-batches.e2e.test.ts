/**
 * The Posting Tool over real HTTP and WebSocket (docs/design.md §8.1): batches built up while DRAFT, shape and ownership
 * checked as entries are added, the preview (every touched line and patient before and after, every refusal with its
 * entry's path, the token), and posting (atomic, PREVIEW_STALE, one version and one balance event per patient, idempotent,
 * payments and write-offs that remember their batch). Every server runs with LEDGER_VERIFY=1.
 */
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import {
  BalanceDocument,
  BalanceFieldsFragment,
  PatientBalanceChangedDocument,
  PatientPaymentsDocument,
  PostingAddEntriesDocument,
  PostingBatchDocument,
  PostingBatchesWithPreviewDocument,
  PostingCreateBatchDocument,
  PostingEntryInput,
  PostingLineDocument,
  PostingPaymentDocument,
  PostingPostDocument,
  PostingPreviewDocument,
  PostingRemoveEntryDocument,
  PostingSnapshotTypeDocument,
  CreatePostingBatchInput,
  RecordPaymentDocument,
  WriteOffDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, collect, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient, previewAndPost, remittanceLine } from '../fixtures';
import { waitFor } from '../support/wait';

let server: TestServer;
let manager: Caller;
let billing: Caller;
let frontDesk: Caller;
let viewer: Caller;
let otherPractice: Caller;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
  manager = await server.caller('BILLING_MANAGER');
  billing = await server.caller('BILLING');
  frontDesk = await server.caller('FRONT_DESK');
  viewer = await server.caller('VIEWER');
  otherPractice = await server.caller('BILLING_MANAGER', `${server.practice}-other`);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers

async function balance(patientId: string): Promise<BalanceFieldsFragment> {
  return (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
}
async function line(id: string) {
  return (await server.ok(manager, PostingLineDocument, { id })).responsibility!;
}
async function paymentsOf(patientId: string) {
  return (await server.ok(manager, PatientPaymentsDocument, { id: patientId, first: 100 })).patient!.payments.edges.map((e) => e.node);
}
async function create(input: CreatePostingBatchInput, caller: Caller = manager) {
  return (await server.ok(caller, PostingCreateBatchDocument, { input })).createPostingBatch;
}
/** A DRAFT batch, asserting it was accepted. */
async function draft(input: CreatePostingBatchInput, caller: Caller = manager) {
  const created = await create(input, caller);
  expect(created.userErrors).toEqual([]);
  expect(created.batch!.status).toBe('DRAFT');
  return created.batch!;
}
async function add(batchId: string, entries: PostingEntryInput[], caller: Caller = manager) {
  return (await server.ok(caller, PostingAddEntriesDocument, { input: { batchId, entries } })).addPostingEntries;
}
async function removeEntry(entryId: string, caller: Caller = manager) {
  return (await server.ok(caller, PostingRemoveEntryDocument, { input: { entryId } })).removePostingEntry;
}
async function preview(batchId: string, caller: Caller = manager) {
  return (await server.ok(caller, PostingPreviewDocument, { id: batchId })).postingBatch!.preview;
}
async function post(batchId: string, previewToken: string, caller: Caller = manager, idempotencyKey?: string) {
  return (await server.ok(caller, PostingPostDocument, { input: { batchId, previewToken, idempotencyKey } })).postPostingBatch;
}
async function batch(id: string) {
  return (await server.ok(manager, PostingBatchDocument, { id })).postingBatch!;
}
const entriesOf = (b: { entries: { edges: { node: { id: string; kind: string; amountCents: number; patient: { id: string } } }[] } }) =>
  b.entries.edges.map((e) => e.node);
const codes = (errors: { code: string }[]) => errors.map((e) => e.code);

const payment = (patientId: string, amountCents: number, allocations: { responsibilityId: string; amountCents: number }[] = []): PostingEntryInput => ({
  payment: { patientId, amountCents, method: 'CHECK', allocations },
});
const writeOff = (responsibilityId: string, amountCents: number): PostingEntryInput => ({ writeOff: { responsibilityId, amountCents, reason: 'SMALL_BALANCE' } });


/**
 * Watches one patient's balance over graphql-ws on the instance mutations go to, and waits for the current balance
 * that the subscription sends first. "Nothing else was published" is shown by a later sentinel change arriving as the
 * very next message (one stream's messages arrive in commit order).
 */
async function watch(patientId: string) {
  const client = server.ws(manager);
  clients.push(client);
  const sub = collect<{ patientBalanceChanged: BalanceFieldsFragment }>(client, print(PatientBalanceChangedDocument), { patientId }, () => false, 60_000);
  await waitFor(() => sub.items.length >= 1 || sub.error !== null, () => `the first balance of ${patientId}`);
  expect(sub.error).toBeNull();
  return {
    versions: () => sub.items.map((i) => i.patientBalanceChanged.version),
    messages: () => sub.items.map((i) => i.patientBalanceChanged),
    waitForCount: (n: number) => waitFor(() => sub.items.length >= n, () => `${n} messages for ${patientId}, got ${JSON.stringify(sub.items)}`),
  };
}
/** A change outside any batch that moves the patient's version by one: a charge without PR. */
async function sentinel(patientId: string) {
  const { chargeId } = await newCharge(server, manager, patientId, []);
  return chargeId;
}

// ---------------------------------------------------------------------------------------------------------------

describe('batches are built while DRAFT (§8.1)', () => {
  test('a DEPOSIT, a REMITTANCE and an ADJUSTMENT batch created with their entries in one call', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const { chargeId: remitCharge } = await newCharge(server, manager, b, [], 50_000);
    const { lineId: remitLine } = await remittanceLine(server, manager, b, 8000);

    const deposit = await draft({
      kind: 'DEPOSIT',
      reference: 'Deposit slip 1042',
      depositDate: '2026-10-12',
      expectedTotalCents: 7500,
      entries: [payment(a, 5000, [{ responsibilityId: lineIds[0], amountCents: 4000 }]), payment(b, 2500)],
    });
    expect(deposit).toMatchObject({
      kind: 'DEPOSIT',
      reference: 'Deposit slip 1042',
      depositDate: '2026-10-12',
      expectedTotalCents: 7500,
      paymentTotalCents: 7500,
      postedAt: null,
      postedBy: null,
      negates: null,
      negatedBy: null,
      createdBy: { id: manager.sub, role: 'BILLING_MANAGER' },
    });
    expect(entriesOf(deposit).map((e) => [e.kind, e.amountCents, e.patient.id])).toEqual([
      ['PAYMENT', 5000, a],
      ['PAYMENT', 2500, b],
    ]);
    // Deferred: nothing was recorded yet.
    expect(deposit.entries.edges.every((e) => e.node.payment === null)).toBe(true);

    const remittance = await draft({
      kind: 'REMITTANCE',
      reference: 'EFT 88120',
      payerName: 'Acme Health',
      expectedTotalCents: 120_000,
      entries: [
        { remittance: { chargeId: remitCharge, remittanceId: 'ERA-B-1', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 9000 }] } },
        writeOff(remitLine, 1000),
      ],
    });
    expect(remittance).toMatchObject({ kind: 'REMITTANCE', payerName: 'Acme Health', paymentTotalCents: 0 });
    expect(entriesOf(remittance).map((e) => [e.kind, e.amountCents, e.patient.id])).toEqual([
      ['REMITTANCE', 2000, b],
      ['WRITE_OFF', 1000, b],
    ]);
    expect(remittance.entries.edges[0].node.charge).toEqual({ id: remitCharge });
    expect(remittance.entries.edges[1].node.responsibility).toEqual({ id: remitLine });

    const adjustment = await draft({
      kind: 'ADJUSTMENT',
      reference: 'Small balances, October',
      entries: [writeOff(lineIds[0], 300), { applyCredit: { patientId: b } }],
    });
    expect(entriesOf(adjustment).map((e) => [e.kind, e.patient.id])).toEqual([
      ['WRITE_OFF', a],
      ['APPLY_CREDIT', b],
    ]);
    // Editing drafts moved no balance.
    expect((await balance(a)).version).toBe(1);
  });

  test('entries are added to the end and removed while DRAFT; the list keeps its order', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 5000]);
    const started = await draft({ kind: 'ADJUSTMENT', reference: 'Built up' });
    expect(entriesOf(started)).toEqual([]);

    const first = await add(started.id, [writeOff(lineIds[0], 100), writeOff(lineIds[1], 200)]);
    expect(first.userErrors).toEqual([]);
    const second = await add(started.id, [writeOff(lineIds[0], 300)]);
    expect(entriesOf(second.batch!).map((e) => e.amountCents)).toEqual([100, 200, 300]);

    const middle = entriesOf(second.batch!)[1].id;
    const removed = await removeEntry(middle);
    expect(removed.userErrors).toEqual([]);
    expect(entriesOf(removed.batch!).map((e) => e.amountCents)).toEqual([100, 300]);
    expect(entriesOf(await batch(started.id)).map((e) => e.amountCents)).toEqual([100, 300]);

    // Removing it again: the entry is gone.
    expect(codes((await removeEntry(middle)).userErrors)).toEqual(['NOT_FOUND']);

    const { posted } = await previewAndPost(server, manager, started.id);
    expect(posted.balances.map((b) => [b.patientId, b.writtenOffCents, b.version])).toEqual([[a, 400, 2]]);
  });

  test('createPostingBatch is idempotent with a key', async () => {
    const a = await newPatient(server, manager);
    const input: CreatePostingBatchInput = { kind: 'DEPOSIT', reference: 'Keyed slip', entries: [payment(a, 1200)], idempotencyKey: `create-${a}` };
    const first = await draft(input);
    const retry = await create(input);
    expect(retry.userErrors).toEqual([]);
    expect(retry.batch!.id).toBe(first.id);
    expect(entriesOf(retry.batch!)).toEqual(entriesOf(first));
    const reused = await create({ ...input, reference: 'Another slip' });
    expect(reused.batch).toBeNull();
    expect(codes(reused.userErrors)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  test('adding checks shape and ownership at once; a refused add adds nothing', async () => {
    const a = await newPatient(server, manager);
    const { chargeId, lineIds } = await newCharge(server, manager, a, [10_000]);
    const stranger = await newPatient(server, otherPractice);
    const strangerLine = (await newCharge(server, otherPractice, stranger, [5000])).lineIds[0];
    const deposit = await draft({ kind: 'DEPOSIT', reference: 'Checks', entries: [payment(a, 1000)] });
    const adjustment = await draft({ kind: 'ADJUSTMENT', reference: 'Checks' });
    const remittance = await draft({ kind: 'REMITTANCE', reference: 'Checks' });

    const refusedAt = async (batchId: string, entries: PostingEntryInput[]) => {
      const result = await add(batchId, entries);
      expect(result.batch).toBeNull();
      expect(result.userErrors).toHaveLength(1);
      return result.userErrors[0];
    };

    // Another practice's ids answer like ids that do not exist.
    expect(await refusedAt(deposit.id, [payment(a, 500), payment(stranger, 500)])).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'entries', '1', 'payment', 'patientId'] });
    expect(await refusedAt(adjustment.id, [writeOff(strangerLine, 100)])).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'entries', '0', 'writeOff', 'responsibilityId'] });
    expect(await refusedAt(adjustment.id, [writeOff('00000000-0000-4000-8000-000000000000', 100)])).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusedAt(remittance.id, [{ reverseRemittance: { chargeId: '00000000-0000-4000-8000-000000000000', remittanceId: 'ERA-1', reason: 'Reversed' } }])).toMatchObject({
      code: 'NOT_FOUND',
      field: ['input', 'entries', '0', 'reverseRemittance', 'chargeId'],
    });
    // Another practice's batch is not found either.
    const foreign = (await server.ok(otherPractice, PostingAddEntriesDocument, { input: { batchId: deposit.id, entries: [payment(stranger, 100)] } })).addPostingEntries;
    expect(foreign.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'batchId'] })]);

    // Amounts and text as §2.5.
    expect(await refusedAt(deposit.id, [payment(a, 0)])).toMatchObject({ code: 'INVALID_AMOUNT', field: ['input', 'entries', '0', 'payment', 'amountCents'] });
    expect(await refusedAt(deposit.id, [payment(a, 1000, [{ responsibilityId: lineIds[0], amountCents: -5 }])])).toMatchObject({
      code: 'INVALID_AMOUNT',
      field: ['input', 'entries', '0', 'payment', 'allocations', '0', 'amountCents'],
    });
    expect(await refusedAt(adjustment.id, [writeOff(lineIds[0], 0)])).toMatchObject({ code: 'INVALID_AMOUNT', field: ['input', 'entries', '0', 'writeOff', 'amountCents'] });
    expect(await refusedAt(adjustment.id, [{ writeOff: { responsibilityId: lineIds[0], amountCents: 100, reason: 'SMALL_BALANCE', note: 'bad\u0007note' } }])).toMatchObject({
      code: 'INVALID_TEXT',
      field: ['input', 'entries', '0', 'writeOff', 'note'],
    });
    expect(await refusedAt(adjustment.id, [{ writeOff: { responsibilityId: lineIds[0], amountCents: 100, reason: 'OTHER' } }])).toMatchObject({ code: 'CUSTOM_REASON_REQUIRED' });
    expect(await refusedAt(remittance.id, [{ reverseRemittance: { chargeId, remittanceId: 'ERA-1', reason: '   ' } }])).toMatchObject({
      code: 'INVALID_TEXT',
      field: ['input', 'entries', '0', 'reverseRemittance', 'reason'],
    });

    // Exactly one member, and no idempotency key of its own.
    expect(await refusedAt(deposit.id, [{}])).toMatchObject({ code: 'INVALID_ENTRY', field: ['input', 'entries', '0'] });
    expect(await refusedAt(adjustment.id, [{ ...writeOff(lineIds[0], 100), applyCredit: { patientId: a } }])).toMatchObject({ code: 'INVALID_ENTRY', field: ['input', 'entries', '0'] });
    const keyed = await refusedAt(deposit.id, [payment(a, 100), { payment: { patientId: a, amountCents: 100, method: 'CASH', idempotencyKey: 'inner-key' } }]);
    expect(keyed).toMatchObject({ code: 'INVALID_ENTRY' });
    expect(keyed.field!.slice(0, 3)).toEqual(['input', 'entries', '1']);

    // What each kind holds.
    expect(await refusedAt(deposit.id, [writeOff(lineIds[0], 100)])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED', field: ['input', 'entries', '0', 'writeOff'] });
    expect(await refusedAt(deposit.id, [{ remittance: { chargeId, remittanceId: 'ERA-X', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] } }])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED' });
    expect(await refusedAt(remittance.id, [payment(a, 100)])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED', field: ['input', 'entries', '0', 'payment'] });
    expect(await refusedAt(remittance.id, [{ applyCredit: { patientId: a } }])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED' });
    expect(await refusedAt(remittance.id, [{ removeWriteOff: { writeOffId: '00000000-0000-4000-8000-000000000000', reason: 'x' } }])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED' });
    expect(await refusedAt(adjustment.id, [payment(a, 100)])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED' });
    expect(await refusedAt(adjustment.id, [{ reverseRemittance: { chargeId, remittanceId: 'ERA-1', reason: 'x' } }])).toMatchObject({ code: 'ENTRY_NOT_ALLOWED' });
    // And createPostingBatch checks its entries the same way, creating nothing.
    const refusedCreate = await create({ kind: 'DEPOSIT', reference: 'Refused', entries: [payment(a, 100), writeOff(lineIds[0], 100)] });
    expect(refusedCreate.batch).toBeNull();
    expect(refusedCreate.userErrors).toEqual([expect.objectContaining({ code: 'ENTRY_NOT_ALLOWED', field: ['input', 'entries', '1', 'writeOff'] })]);

    // None of the refused adds left anything behind.
    expect(entriesOf(await batch(deposit.id)).map((e) => e.amountCents)).toEqual([1000]);
    expect(entriesOf(await batch(adjustment.id))).toEqual([]);
    expect(entriesOf(await batch(remittance.id))).toEqual([]);
    expect((await balance(a)).version).toBe(1);
  });

  test('editing a DRAFT changes no version and publishes nothing', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const before = await balance(a);
    const watcher = await watch(a);

    const built = await draft({ kind: 'DEPOSIT', reference: 'Quiet', entries: [payment(a, 1000, [{ responsibilityId: lineIds[0], amountCents: 1000 }])] });
    const added = await add(built.id, [payment(a, 2000)]);
    expect(added.userErrors).toEqual([]);
    expect((await removeEntry(entriesOf(added.batch!)[0].id)).userErrors).toEqual([]);
    await preview(built.id);
    expect(await balance(a)).toEqual(before);

    // The next message is the sentinel's, with the very next version: the edits published nothing.
    await sentinel(a);
    await watcher.waitForCount(2);
    expect(watcher.versions()).toEqual([before.version, before.version + 1]);
  });

  test('BATCH_NOT_DRAFT: a posted batch takes no more entries, loses none, and posts once', async () => {
    const a = await newPatient(server, manager);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Once', entries: [payment(a, 1000)] });
    await previewAndPost(server, manager, built.id);
    const after = await balance(a);

    const added = await add(built.id, [payment(a, 500)]);
    expect(added.userErrors).toEqual([expect.objectContaining({ code: 'BATCH_NOT_DRAFT', field: ['input', 'batchId'] })]);
    const removed = await removeEntry(entriesOf(await batch(built.id))[0].id);
    expect(codes(removed.userErrors)).toEqual(['BATCH_NOT_DRAFT']);
    // Nothing to preview on a posted batch.
    const stale = await preview(built.id);
    expect(stale.valid).toBe(false);
    expect(codes(stale.userErrors)).toEqual(['BATCH_NOT_DRAFT']);

    expect(await balance(a)).toEqual(after);
    expect(await paymentsOf(a)).toHaveLength(1);
    expect(entriesOf(await batch(built.id))).toHaveLength(1);
  });

  test('BATCH_NOT_DRAFT: posting a posted batch again, with the token it was posted with', async () => {
    const a = await newPatient(server, manager);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Twice', entries: [payment(a, 1000)] });
    const seen = await preview(built.id);
    expect((await post(built.id, seen.token)).userErrors).toEqual([]);
    const after = await balance(a);

    const again = await post(built.id, seen.token);
    expect(again.batch).toBeNull();
    expect(again.userErrors).toEqual([expect.objectContaining({ code: 'BATCH_NOT_DRAFT', field: ['input', 'batchId'] })]);
    expect(await balance(a)).toEqual(after);
    expect(await paymentsOf(a)).toHaveLength(1);
  });

  test('roles: FRONT_DESK works DEPOSIT batches only; VIEWER none', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);

    // FRONT_DESK: a whole deposit, start to post.
    const deposit = await draft({ kind: 'DEPOSIT', reference: 'Front desk drawer', entries: [payment(a, 1500, [{ responsibilityId: lineIds[0], amountCents: 1500 }])] }, frontDesk);
    expect(deposit.createdBy).toEqual({ id: frontDesk.sub, role: 'FRONT_DESK' });
    expect((await add(deposit.id, [payment(a, 500)], frontDesk)).userErrors).toEqual([]);
    const { posted } = await previewAndPost(server, frontDesk, deposit.id);
    expect(posted.batch!.postedBy).toEqual({ id: frontDesk.sub, role: 'FRONT_DESK' });

    // ... but not remittance work.
    for (const kind of ['REMITTANCE', 'ADJUSTMENT'] as const) {
      const refused = await create({ kind, reference: 'Not mine' }, frontDesk);
      expect(refused.batch).toBeNull();
      expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'FORBIDDEN', message: "You don't have permission to do this." })]);
    }
    const adjustment = await draft({ kind: 'ADJUSTMENT', reference: 'Billing only', entries: [writeOff(lineIds[0], 100)] }, billing);
    expect(codes((await add(adjustment.id, [writeOff(lineIds[0], 100)], frontDesk)).userErrors)).toEqual(['FORBIDDEN']);
    expect(codes((await removeEntry(entriesOf(adjustment)[0].id, frontDesk)).userErrors)).toEqual(['FORBIDDEN']);
    const token = (await preview(adjustment.id, billing)).token;
    expect(codes((await post(adjustment.id, token, frontDesk)).userErrors)).toEqual(['FORBIDDEN']);
    expect(entriesOf(await batch(adjustment.id))).toHaveLength(1);
    expect((await batch(adjustment.id)).status).toBe('DRAFT');
    // BILLING may post it.
    const byBilling = await post(adjustment.id, token, billing);
    expect(byBilling.userErrors).toEqual([]);

    // VIEWER may read batches but not make one.
    const denied = await server.gql(viewer, PostingCreateBatchDocument, { input: { kind: 'DEPOSIT', reference: 'Viewer' } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await server.ok(viewer, PostingBatchDocument, { id: deposit.id })).postingBatch!.status).toBe('POSTED');
  });
});

describe('preview (§8.1)', () => {
  test('every touched line and patient before and after; a created line has no before; the snapshot has no id', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 4000]);
    const { chargeId: bCharge } = await newCharge(server, manager, b, [], 20_000);
    const aBefore = await balance(a);
    const bBefore = await balance(b);

    const built = await draft({
      kind: 'DEPOSIT',
      reference: 'Preview',
      entries: [
        payment(a, 5000, [{ responsibilityId: lineIds[0], amountCents: 3000 }]),
        { payment: { patientId: b, amountCents: 7500, method: 'CASH', purpose: 'SELF_PAY', chargeId: bCharge } },
      ],
    });
    const seen = await preview(built.id);
    expect(seen.valid).toBe(true);
    expect(seen.userErrors).toEqual([]);
    expect(seen.token).toEqual(expect.any(String));

    const touched = seen.lines.find((l) => l.responsibilityId === lineIds[0])!;
    expect(touched).toEqual({
      responsibilityId: lineIds[0],
      before: { status: 'ACTIVE', amountCents: 10_000, paidCents: 0, writtenOffCents: 0, openCents: 10_000 },
      after: { status: 'ACTIVE', amountCents: 10_000, paidCents: 3000, writtenOffCents: 0, openCents: 7000 },
    });
    // The untouched line of the same charge is not listed.
    expect(seen.lines.some((l) => l.responsibilityId === lineIds[1])).toBe(false);
    const created = seen.lines.filter((l) => l.before === null);
    expect(created).toHaveLength(1);
    expect(created[0].after).toEqual({ status: 'ACTIVE', amountCents: 7500, paidCents: 7500, writtenOffCents: 0, openCents: 0 });
    expect(seen.lines).toHaveLength(2);

    const byPatient = Object.fromEntries(seen.patients.map((p) => [p.patientId, p]));
    expect(Object.keys(byPatient).sort()).toEqual([a, b].sort());
    const snapshot = (x: BalanceFieldsFragment) => ({
      __typename: 'BalanceSnapshot',
      patientId: x.patientId,
      outstandingCents: x.outstandingCents,
      responsibilityCents: x.responsibilityCents,
      paidCents: x.paidCents,
      writtenOffCents: x.writtenOffCents,
      creditCents: x.creditCents,
      version: x.version,
    });
    expect(byPatient[a].before).toEqual(snapshot(aBefore));
    expect(byPatient[a].after).toEqual({ ...snapshot(aBefore), outstandingCents: 11_000, paidCents: 3000, creditCents: 2000, version: aBefore.version + 1 });
    expect(byPatient[b].before).toEqual(snapshot(bBefore));
    expect(byPatient[b].after).toEqual({ ...snapshot(bBefore), responsibilityCents: 7500, paidCents: 7500, outstandingCents: 0, version: bBefore.version + 1 });

    // BalanceSnapshot is a type without an identity.
    const type = (await server.ok(manager, PostingSnapshotTypeDocument, {})).__type!;
    expect(type.fields!.map((f) => f.name)).not.toContain('id');
    expect(type.fields!.map((f) => f.name)).toEqual(expect.arrayContaining(['patientId', 'version', 'outstandingCents', 'creditCents']));

    // Posting does what the preview said.
    const posted = await post(built.id, seen.token);
    expect(posted.userErrors).toEqual([]);
    const after = Object.fromEntries(posted.balances.map((x) => [x.patientId, x]));
    expect(snapshot(after[a])).toEqual(byPatient[a].after);
    expect(snapshot(after[b])).toEqual(byPatient[b].after);
    expect(await line(lineIds[0])).toMatchObject(touched.after);
  });

  test('every refusal posting would meet, each at its entry; each entry sees the ones before it', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 2000]);
    const stand = (await server.ok(manager, RecordPaymentDocument, { input: { patientId: a, amountCents: 2000, method: 'CARD', allocations: [{ responsibilityId: lineIds[1], amountCents: 2000 }] } })).recordPayment;
    expect(stand.userErrors).toEqual([]);
    const before = await balance(a);

    const built = await draft({
      kind: 'ADJUSTMENT',
      reference: 'Refusals',
      entries: [
        writeOff(lineIds[0], 6000), // fine
        writeOff(lineIds[0], 6000), // only $40.00 left after entry 0
        writeOff(lineIds[1], 100), // fully paid
        writeOff(lineIds[0], 4000), // fine: entry 1 was left out
      ],
    });
    const seen = await preview(built.id);
    expect(seen.valid).toBe(false);
    expect(seen.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['WRITE_OFF_EXCEEDS_OPEN', ['entries', '1', 'writeOff', 'amountCents']],
      ['PR_ALREADY_PAID', expect.arrayContaining(['entries', '2', 'writeOff'])],
    ]);
    expect(seen.userErrors[0].message).toContain('$40.00');
    expect(seen.userErrors[1].field!.slice(0, 3)).toEqual(['entries', '2', 'writeOff']);

    // Posting meets the first of them, at its entry, and changes nothing.
    const posted = await post(built.id, seen.token);
    expect(posted.batch).toBeNull();
    expect(posted.balances).toEqual([]);
    expect(posted.userErrors).toEqual([expect.objectContaining({ code: 'WRITE_OFF_EXCEEDS_OPEN', field: ['entries', '1', 'writeOff', 'amountCents'] })]);
    expect(await balance(a)).toEqual(before);
    expect((await batch(built.id)).status).toBe('DRAFT');
  });

  test('BATCH_OUT_OF_BALANCE when a deposit does not add up to its expected total; the message gives both amounts', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Slip 7', expectedTotalCents: 5000, entries: [payment(a, 3000), payment(b, 1000)] });
    const seen = await preview(built.id);
    expect(seen.valid).toBe(false);
    expect(codes(seen.userErrors)).toEqual(['BATCH_OUT_OF_BALANCE']);
    expect(seen.userErrors[0].message).toContain('$40.00');
    expect(seen.userErrors[0].message).toContain('$50.00');
    // The preview still shows what the entries would do.
    expect(seen.patients.map((p) => p.after.creditCents).sort()).toEqual([1000, 3000]);

    const refused = await post(built.id, seen.token);
    expect(codes(refused.userErrors)).toEqual(['BATCH_OUT_OF_BALANCE']);
    expect(refused.userErrors[0].message).toContain('$40.00');
    expect(refused.userErrors[0].message).toContain('$50.00');
    expect((await balance(a)).version).toBe(0);
    expect(await paymentsOf(a)).toEqual([]);

    // The missing $10.00 added: it balances and posts.
    expect((await add(built.id, [payment(b, 1000)])).userErrors).toEqual([]);
    const { posted } = await previewAndPost(server, manager, built.id);
    expect(posted.batch!.paymentTotalCents).toBe(5000);
  });

  test('preview changes nothing and publishes nothing; its token fingerprints what it saw', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const before = await balance(a);
    const watcher = await watch(a);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Look only', entries: [payment(a, 4000, [{ responsibilityId: lineIds[0], amountCents: 4000 }])] });

    const first = await preview(built.id);
    const second = await preview(built.id);
    expect(second.token).toBe(first.token);
    expect(await balance(a)).toEqual(before);
    expect(await line(lineIds[0])).toMatchObject({ paidCents: 0, openCents: 10_000 });
    expect(await paymentsOf(a)).toEqual([]);

    // The token changes with the entries, and with the patients' versions.
    const added = await add(built.id, [payment(a, 100)]);
    const third = await preview(built.id);
    expect(third.token).not.toBe(first.token);
    expect((await removeEntry(entriesOf(added.batch!)[1].id)).userErrors).toEqual([]);
    await sentinel(a);
    const fourth = await preview(built.id);
    expect(fourth.token).not.toBe(first.token);
    expect(fourth.patients[0].after.version).toBe(before.version + 2);

    // Only the sentinel was published.
    await watcher.waitForCount(2);
    expect(watcher.versions()).toEqual([before.version, before.version + 1]);

    // A preview is for one batch at a time.
    const listed = await server.gql(manager, PostingBatchesWithPreviewDocument, {});
    expect(listed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('post (§8.1)', () => {
  test("atomic: a batch whose third entry is refused changes nothing and answers with that entry's path", async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds: aLines } = await newCharge(server, manager, a, [10_000]);
    const { lineIds: bLines } = await newCharge(server, manager, b, [3000]);
    const before = [await balance(a), await balance(b)];

    // Entries 0 and 1 are fine on their own; entry 2 asks for $25.00 where entry 1 leaves $20.00 open.
    const built = await draft({ kind: 'ADJUSTMENT', reference: 'All or nothing', entries: [writeOff(aLines[0], 2000), writeOff(bLines[0], 1000), writeOff(bLines[0], 2500)] });
    const seen = await preview(built.id);
    expect(seen.userErrors.map((e) => [e.code, e.field])).toEqual([['WRITE_OFF_EXCEEDS_OPEN', ['entries', '2', 'writeOff', 'amountCents']]]);

    const posted = await post(built.id, seen.token);
    expect(posted.batch).toBeNull();
    expect(posted.balances).toEqual([]);
    expect(posted.userErrors).toEqual([expect.objectContaining({ code: 'WRITE_OFF_EXCEEDS_OPEN', field: ['entries', '2', 'writeOff', 'amountCents'] })]);
    expect(posted.userErrors[0].message).toContain('$20.00');
    expect([await balance(a), await balance(b)]).toEqual(before);
    expect((await line(aLines[0])).writeOffs).toEqual([]);
    expect((await line(bLines[0])).writeOffs).toEqual([]);
    expect((await batch(built.id)).status).toBe('DRAFT');

    // Fixed (the third entry replaced by one that fits), the same batch posts whole.
    const third = entriesOf(await batch(built.id))[2].id;
    expect((await removeEntry(third)).userErrors).toEqual([]);
    expect((await add(built.id, [writeOff(bLines[0], 2000)])).userErrors).toEqual([]);
    const { posted: done } = await previewAndPost(server, manager, built.id);
    expect(Object.fromEntries(done.balances.map((x) => [x.patientId, [x.writtenOffCents, x.version]]))).toEqual({ [a]: [2000, before[0].version + 1], [b]: [3000, before[1].version + 1] });
  });

  test('PREVIEW_STALE after a touched patient changed since the preview, and after an entry was added', async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Stale', entries: [payment(a, 1000, [{ responsibilityId: lineIds[0], amountCents: 1000 }]), payment(b, 500)] });

    // A touched patient changes (an unrelated write-off on a), even one that would not alter the outcome.
    const seen = await preview(built.id);
    const outside = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 100, reason: 'SMALL_BALANCE' } })).writeOff;
    expect(outside.userErrors).toEqual([]);
    const midway = [await balance(a), await balance(b)];
    const stale = await post(built.id, seen.token);
    expect(stale.batch).toBeNull();
    expect(stale.userErrors).toEqual([expect.objectContaining({ code: 'PREVIEW_STALE', field: ['input', 'previewToken'] })]);
    expect([await balance(a), await balance(b)]).toEqual(midway);

    // An entry is added after the preview.
    const second = await preview(built.id);
    expect((await add(built.id, [payment(b, 250)])).userErrors).toEqual([]);
    expect(codes((await post(built.id, second.token)).userErrors)).toEqual(['PREVIEW_STALE']);
    // ... or removed.
    const third = await preview(built.id);
    const entries = entriesOf(await batch(built.id));
    expect((await removeEntry(entries[2].id)).userErrors).toEqual([]);
    expect(codes((await post(built.id, third.token)).userErrors)).toEqual(['PREVIEW_STALE']);
    // A made-up token is stale too.
    expect(codes((await post(built.id, 'not-a-token')).userErrors)).toEqual(['PREVIEW_STALE']);
    expect([await balance(a), await balance(b)]).toEqual(midway);
    expect(await paymentsOf(b)).toEqual([]);

    // Previewed again, it posts.
    const { posted } = await previewAndPost(server, manager, built.id);
    expect(posted.balances.map((x) => x.version).sort()).toEqual([midway[0].version + 1, midway[1].version + 1].sort());
  });

  test("each touched patient's version rises by exactly one for the whole batch, with one balance event each", async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000, 6000]);
    const aBefore = await balance(a);
    const bBefore = await balance(b);
    const watchA = await watch(a);
    const watchB = await watch(b);

    const built = await draft({
      kind: 'DEPOSIT',
      reference: 'Two for a',
      entries: [
        payment(a, 3000, [{ responsibilityId: lineIds[0], amountCents: 3000 }]),
        payment(b, 1200),
        payment(a, 2000, [{ responsibilityId: lineIds[1], amountCents: 2000 }]),
      ],
    });
    const { posted } = await previewAndPost(server, manager, built.id);
    const balances = Object.fromEntries(posted.balances.map((x) => [x.patientId, x]));
    expect(posted.balances).toHaveLength(2);
    expect(balances[a]).toMatchObject({ version: aBefore.version + 1, paidCents: 5000, outstandingCents: 11_000, creditCents: 0 });
    expect(balances[b]).toMatchObject({ version: bBefore.version + 1, creditCents: 1200 });
    expect(await balance(a)).toEqual(balances[a]);
    expect(await balance(b)).toEqual(balances[b]);

    // One event per patient with the new balance, then the sentinel's: nothing in between.
    await watchA.waitForCount(2);
    await watchB.waitForCount(2);
    expect(watchA.messages()[1]).toEqual(balances[a]);
    expect(watchB.messages()[1]).toEqual(balances[b]);
    await sentinel(a);
    await sentinel(b);
    await watchA.waitForCount(3);
    await watchB.waitForCount(3);
    expect(watchA.versions()).toEqual([aBefore.version, aBefore.version + 1, aBefore.version + 2]);
    expect(watchB.versions()).toEqual([bBefore.version, bBefore.version + 1, bBefore.version + 2]);
  });

  test('idempotent with a key: the retry returns the same batch and changes nothing', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Retry', entries: [payment(a, 2500, [{ responsibilityId: lineIds[0], amountCents: 2500 }])] });
    const seen = await preview(built.id);
    const key = `post-${built.id}`;

    const first = await post(built.id, seen.token, manager, key);
    expect(first.userErrors).toEqual([]);
    expect(first.batch!.status).toBe('POSTED');
    const after = await balance(a);
    expect(after.version).toBe(2);
    const paymentsAfter = await paymentsOf(a);
    expect(paymentsAfter).toHaveLength(1);

    const retry = await post(built.id, seen.token, manager, key);
    expect(retry.userErrors).toEqual([]);
    expect(retry.batch!.id).toBe(built.id);
    expect(retry.batch!.status).toBe('POSTED');
    expect(retry.batch!.postedAt).toBe(first.batch!.postedAt);
    expect(retry.batch!.entries).toEqual(first.batch!.entries);
    expect(await balance(a)).toEqual(after);
    expect(await paymentsOf(a)).toEqual(paymentsAfter);

    // The same key with another input is refused.
    expect(codes((await post(built.id, 'another-token', manager, key)).userErrors)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await balance(a)).toEqual(after);
  });

  test("a replay answers, like the first answer, with every touched patient's balance as it is now (§3)", async () => {
    const a = await newPatient(server, manager);
    const b = await newPatient(server, manager);
    const built = await draft({ kind: 'DEPOSIT', reference: 'Replay balances', entries: [payment(a, 700), payment(b, 300)] });
    const seen = await preview(built.id);
    const key = `post-balances-${built.id}`;
    const first = await post(built.id, seen.token, manager, key);
    expect(first.userErrors).toEqual([]);
    expect(first.balances).toHaveLength(2);

    const retry = await post(built.id, seen.token, manager, key);
    expect(retry.userErrors).toEqual([]);
    const byPatient = (list: BalanceFieldsFragment[]) => Object.fromEntries(list.map((x) => [x.patientId, x]));
    expect(byPatient(retry.balances)).toEqual({ [a]: await balance(a), [b]: await balance(b) });
  });

  test('payments and write-offs remember their batch; entries name what posting made', async () => {
    const a = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, a, [10_000]);
    const { lineId: remitLine } = await remittanceLine(server, manager, a, 5000);
    const alone = (await server.ok(manager, RecordPaymentDocument, { input: { patientId: a, amountCents: 100, method: 'CASH' } })).recordPayment.payment!;

    const deposit = await draft({ kind: 'DEPOSIT', reference: 'With batch', entries: [payment(a, 1000, [{ responsibilityId: lineIds[0], amountCents: 1000 }])] });
    const { posted: postedDeposit } = await previewAndPost(server, manager, deposit.id);
    const paymentEntry = entriesOf(postedDeposit.batch!)[0];
    const paymentId = postedDeposit.batch!.entries.edges[0].node.payment!.id;
    expect(paymentEntry.kind).toBe('PAYMENT');
    const recorded = (await server.ok(manager, PostingPaymentDocument, { id: paymentId })).payment!;
    expect(recorded).toMatchObject({ amountCents: 1000, batch: { id: deposit.id }, allocatedCents: 1000 });
    expect((await server.ok(manager, PostingPaymentDocument, { id: alone.id })).payment!.batch).toBeNull();

    const remittance = await draft({ kind: 'REMITTANCE', reference: 'Per CARC', entries: [writeOff(remitLine, 700)] }, billing);
    const { posted: postedRemittance } = await previewAndPost(server, billing, remittance.id);
    const writeOffId = postedRemittance.batch!.entries.edges[0].node.writeOff!.id;
    const written = await line(remitLine);
    expect(written.writeOffs).toEqual([expect.objectContaining({ id: writeOffId, activeCents: 700, batch: { id: remittance.id } })]);
    expect(written).toMatchObject({ writtenOffCents: 700, openCents: 4300 });
    const outside = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 100, reason: 'SMALL_BALANCE' } })).writeOff.writeOff!;
    expect((await line(lineIds[0])).writeOffs.find((w) => w.id === outside.id)!.batch).toBeNull();
  });
});
