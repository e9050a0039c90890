/**
 * Issue 4, docs/design.md §4: who may do what, as a GENERATED matrix.
 *
 * Every root field of the built schema (Query, Mutation, Subscription, read from buildAppSchema(), not a hand-picked
 * list) × every role × the caller's own practice / another practice, over HTTP and WebSocket (subscriptions over
 * WebSocket only). The expected grants come from the docs/design.md §4 table written out below, not from src/auth/roles.ts, so
 * a wrong grant in the code fails here.
 *
 *   - a role the table does not allow          → a GraphQL error with extensions.code FORBIDDEN (on that field for a
 *                                                 query; for the whole document, before it runs, for a mutation), no change
 *   - an allowed role, own practice           → the business outcome (the row, the accepted change, the event)
 *   - an allowed role, another practice's ids → exactly the answer for an unknown id: null for queries, a NOT_FOUND
 *                                                userError for mutations, NOT_FOUND ending the patient subscriptions
 *
 * CASES has one entry per root field with the variables it needs. When the schema gains a root field that CASES does
 * not cover, the first test fails, so the matrix stays complete.
 *
 * The Posting Tool (docs/design.md §8.1) fits the same columns: voiding a payment and negating a batch like refunds,
 * applying credit like payments, reversing a remittance like remittances. A batch's own rule depends on its kind
 * (DEPOSIT like payments, REMITTANCE and ADJUSTMENT like remittances): the matrix works DEPOSIT batches, the least any
 * kind needs, and the tests after it check every role against every kind (there a role that may post but not work that
 * kind gets a FORBIDDEN userError from the service, since the document itself is allowed).
 *
 * Automation (docs/design.md §9) too: write-off rules are read by everyone, managed like refunds and run like
 * remittances (a run makes a DRAFT ADJUSTMENT batch); an 835 import is remittance work (DRAFT REMITTANCE batches). A
 * rule reads the whole practice, so each fixture's rule qualifies that fixture's line alone; the matrix's 835 files
 * name claims that match nothing (a DRAFT batch with a CLAIM_NOT_FOUND issue), and another practice importing a file
 * that names practice A's charge matches nothing either.
 */
import crypto from 'node:crypto';
import { GraphQLObjectType, GraphQLSchema, print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import {
  type MatrixImportRemittanceFileMutation,
  AuditTrailDocument,
  CancelPrDocument,
  ChargeDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  MatrixAddPostingEntriesDocument,
  MatrixApplyCreditDocument,
  MatrixChargeRemittancesDocument,
  MatrixCreatePostingBatchDocument,
  MatrixCreateWriteOffRuleDocument,
  MatrixImportedBatchDocument,
  MatrixImportRemittanceFileDocument,
  MatrixNegatePostingBatchDocument,
  MatrixPostingBatchDocument,
  MatrixPostingBatchesDocument,
  MatrixPostingPreviewDocument,
  MatrixPostPostingBatchDocument,
  MatrixRemovePostingEntryDocument,
  MatrixReverseRemittanceDocument,
  MatrixRunWriteOffRuleDocument,
  MatrixUpdateWriteOffRuleDocument,
  MatrixVoidPaymentDocument,
  MatrixWriteOffRulesDocument,
  PatientBalanceChangedDocument,
  PatientBalancesChangedDocument,
  PatientDocument,
  PatientsDocument,
  PaymentDocument,
  PracticeBalanceChangedDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  ResponsibilityDocument,
  SecurityBalanceDocument,
  WriteOffDocument,
  WriteOffReasonsDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { era835 } from '../support/era-file';
import { waitFor } from '../support/wait';
import { buildAppSchema } from '../../src/schema';
import type { Role } from '../../src/auth/roles';

// ---------------------------------------------------------------------------------------------------------------
// docs/design.md §4, written out independently of the code.

type Column = 'read' | 'post' | 'remittance' | 'refund_audit';
const ROLES: Role[] = ['VIEWER', 'FRONT_DESK', 'BILLING', 'BILLING_MANAGER', 'ADMIN'];
const DESIGN_GRANTS: Record<Role, Column[]> = {
  VIEWER: ['read'],
  FRONT_DESK: ['read', 'post'],
  BILLING: ['read', 'post', 'remittance'],
  BILLING_MANAGER: ['read', 'post', 'remittance', 'refund_audit'],
  ADMIN: ['read', 'post', 'remittance', 'refund_audit'],
};
const FORBIDDEN_MESSAGE = "You don't have permission to do this.";

// ---------------------------------------------------------------------------------------------------------------
// Server, practices, fixtures

let server: TestServer;
let schema: GraphQLSchema;
/** Practice A owns every fixture; practice B is "another practice". */
let admin: Caller;
let otherAdmin: Caller;
const OTHER_PRACTICE = `other-${crypto.randomBytes(4).toString('hex')}`;
const clients = new Map<string, Client>();
const counts = { cases: 0, forbidden: 0, business: 0, likeUnknown: 0, isolated: 0 };

beforeAll(async () => {
  // The matrix builds many fixtures quickly with one admin: the rate limit is tested in hardening.e2e.test.ts.
  server = await startTestServer({ env: { ...NO_CALLER_LIMITS } });
  schema = await buildAppSchema();
  admin = await server.caller('ADMIN', server.practice, 'matrix-admin');
  otherAdmin = await server.caller('ADMIN', OTHER_PRACTICE, 'other-admin');
});
afterAll(async () => {
  await Promise.all([...clients.values()].map((client) => client.dispose()));
  await server.stop();
  console.log(`role matrix: ${JSON.stringify(counts)}`);
});

interface Fixture {
  patientId: string;
  lastName: string;
  chargeId: string;
  /** STAFF lines of 5000 (1000 paid), 3000 (500 written off), 2000 (for payments and write-offs), 1500 (to cancel). */
  lineIds: string[];
  paymentId: string;
  writeOffId: string;
  /** A charge without PR, for recordRemittance. */
  remittanceChargeId: string;
  /** docs/design.md §8: a payment of 300 on line 2000 to void, and one of 400 left as credit to apply. */
  voidPaymentId: string;
  creditPaymentId: string;
  /** A charge whose PR lines (800) came from remittance `reverseRemittanceId`, to reverse. */
  reverseChargeId: string;
  reverseRemittanceId: string;
  /** DRAFT DEPOSIT batches of payments of 100 on line 2000: one with two entries to add to and remove from, one to post. */
  draftBatchId: string;
  draftEntryIds: string[];
  postBatchId: string;
  /** A POSTED DEPOSIT batch (one payment of 100 on line 2000), to negate. */
  negateBatchId: string;
  /**
   * docs/design.md §9.2: a rule made by practice A's admin that, run as of `ruleAsOf`, qualifies one line of its own
   * patient (without credit, unlike the fixture patient) and no other line of the practice: see ruleFixture.
   */
  ruleId: string;
  ruleName: string;
  ruleAsOf: string;
  rulePatientId: string;
  ruleLineId: string;
  ruleLineCents: number;
  /** docs/design.md §9.1: a charge of the fixture patient, without PR, with a claim number and a line control number. */
  eraChargeId: string;
  eraClaimNumber: string;
  eraControlNumber: string;
}

/** A payment entry of 100 on line 2000, for a DEPOSIT batch. */
const depositEntry = (patientId: string, lineId: string) => ({
  payment: { patientId, amountCents: 100, method: 'CASH' as const, allocations: [{ responsibilityId: lineId, amountCents: 100 }] },
});

async function draftBatch(caller: Caller, variables: Record<string, unknown>) {
  const data = await server.ok(caller, MatrixCreatePostingBatchDocument, { input: { reference: `Matrix ${crypto.randomBytes(3).toString('hex')}`, ...variables } as never });
  expect(data.createPostingBatch.userErrors).toEqual([]);
  return data.createPostingBatch.batch!;
}

/** The token of the batch's preview now, which must be valid. */
async function previewToken(batchId: string): Promise<string> {
  const data = await server.ok(admin, MatrixPostingPreviewDocument, { id: batchId });
  expect(data.postingBatch!.preview.userErrors).toEqual([]);
  return data.postingBatch!.preview.token;
}

async function postedBatch(caller: Caller, variables: Record<string, unknown>) {
  const batch = await draftBatch(caller, variables);
  const posted = await server.ok(caller, MatrixPostPostingBatchDocument, { input: { batchId: batch.id, previewToken: await previewToken(batch.id) } });
  expect(posted.postPostingBatch.userErrors).toEqual([]);
  return batch;
}

const hex = () => crypto.randomBytes(4).toString('hex').toUpperCase();

/**
 * Fixture n's rule: every line of at most 100 + n cents served on or before 2020-06-01 less n days, run as of that day.
 * Its line (100 + n cents, served that day) is the one line of practice A it qualifies: a later fixture's line is
 * older but larger, an earlier one's served after the run's date, and every other line of the matrix is of 2026.
 */
async function ruleFixture(n: number) {
  const ruleAsOf = new Date(Date.UTC(2020, 5, 1) - n * 86_400_000).toISOString().slice(0, 10);
  const ruleLineCents = 100 + n;
  const rulePatientId = await newPatient(server, admin, 'Rule', `Ruled${hex()}`);
  const { lineIds } = await newCharge(server, admin, rulePatientId, [ruleLineCents], 100_000, ruleAsOf);
  const ruleName = `Matrix rule ${n}`;
  const created = await server.ok(admin, MatrixCreateWriteOffRuleDocument, { input: { name: ruleName, reason: 'SMALL_BALANCE', maxOpenCents: ruleLineCents, minDaysSinceService: 0 } });
  expect(created.createWriteOffRule.userErrors).toEqual([]);
  return { ruleId: created.createWriteOffRule.rule!.id, ruleName, ruleAsOf, rulePatientId, ruleLineId: lineIds[0], ruleLineCents };
}

/** A charge of the patient (99213 on 2026-01-05, billed 200.00, no PR) that an 835 can name by claim and line control number. */
async function eraFixture(patientId: string) {
  const eraClaimNumber = `PCN-M${hex()}`;
  const eraControlNumber = `LC-M${hex()}`;
  const data = await server.ok(admin, CreateChargeDocument, {
    input: { patientId, serviceDate: '2026-01-05', procedureCode: '99213', billedCents: 20_000, claimNumber: eraClaimNumber, lineControlNumber: eraControlNumber },
  });
  expect(data.createCharge.userErrors).toEqual([]);
  return { eraChargeId: data.createCharge.charge!.id, eraClaimNumber, eraControlNumber };
}

/**
 * A small 835 (one payment, new trace number each time) of one claim with one service line, 99213 on 2026-01-05 with
 * a PR-2 of 1.00 and a CO-45, naming this claim number (CLP01) and line control number (REF*6R).
 */
function eraFile(claimNumber: string, control: string): string {
  return era835([
    {
      trace: `EFT${hex()}${hex()}`,
      date: '2026-01-15',
      payerName: 'MATRIX HEALTH PLAN',
      claims: [
        {
          claimNumber,
          payerClaimNumber: 'ICN-MATRIX',
          lines: [{ code: '99213', chargeCents: 20_000, date: '2026-01-05', control, adjustments: [{ group: 'PR', reason: '2', cents: 100 }, { group: 'CO', reason: '45', cents: 5_000 }] }],
        },
      ],
    },
  ]);
}

/** Claim and line control numbers no charge has, with the same suffix: NOMATCH-x and NOLC-x. */
const UNMATCHED = /^NOMATCH-([0-9A-F]{8})$/;
const unmatchedFile = () => {
  const suffix = hex();
  return eraFile(`NOMATCH-${suffix}`, `NOLC-${suffix}`);
};

let fixtureCounter = 0;
async function fixture(): Promise<Fixture> {
  const lastName = `Matrix${++fixtureCounter}x${crypto.randomBytes(3).toString('hex')}`;
  const n = fixtureCounter;
  const patientId = await newPatient(server, admin, 'Role', lastName);
  const { chargeId, lineIds } = await newCharge(server, admin, patientId, [5000, 3000, 2000, 1500]);
  const payment = await server.ok(admin, RecordPaymentDocument, {
    input: { patientId, amountCents: 1000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 1000 }] },
  });
  const writeOff = await server.ok(admin, WriteOffDocument, { input: { responsibilityId: lineIds[1], amountCents: 500, reason: 'SMALL_BALANCE' } });
  const remittance = await newCharge(server, admin, patientId, [], 50_000);
  const voided = await server.ok(admin, RecordPaymentDocument, {
    input: { patientId, amountCents: 300, method: 'CHECK', allocations: [{ responsibilityId: lineIds[2], amountCents: 300 }] },
  });
  const credit = await server.ok(admin, RecordPaymentDocument, { input: { patientId, amountCents: 400, method: 'CASH' } });
  const reversed = await newCharge(server, admin, patientId, [], 40_000);
  const reverseRemittanceId = `ERA-${crypto.randomUUID()}`;
  const recorded = await server.ok(admin, RecordRemittanceDocument, {
    input: { chargeId: reversed.chargeId, remittanceId: reverseRemittanceId, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 800 }] },
  });
  expect(recorded.recordRemittance.userErrors).toEqual([]);
  const deposit = (entries: number) => ({ kind: 'DEPOSIT', entries: Array.from({ length: entries }, () => depositEntry(patientId, lineIds[2])) });
  const draft = await draftBatch(admin, deposit(2));
  const toPost = await draftBatch(admin, deposit(1));
  const toNegate = await postedBatch(admin, deposit(1));
  const rule = await ruleFixture(n);
  const era = await eraFixture(patientId);
  return {
    ...rule,
    ...era,
    patientId,
    lastName,
    chargeId,
    lineIds,
    paymentId: payment.recordPayment.payment!.id,
    writeOffId: writeOff.writeOff.writeOff!.id,
    remittanceChargeId: remittance.chargeId,
    voidPaymentId: voided.recordPayment.payment!.id,
    creditPaymentId: credit.recordPayment.payment!.id,
    reverseChargeId: reversed.chargeId,
    reverseRemittanceId,
    draftBatchId: draft.id,
    draftEntryIds: draft.entries.edges.map((e) => e.node.id),
    postBatchId: toPost.id,
    negateBatchId: toNegate.id,
  };
}

/** Every id the fixture made (remittance ids are the insurer's text, not ours). */
function fixtureIds(f: Fixture): string[] {
  return [
    f.patientId,
    f.chargeId,
    ...f.lineIds,
    f.paymentId,
    f.writeOffId,
    f.remittanceChargeId,
    f.voidPaymentId,
    f.creditPaymentId,
    f.reverseChargeId,
    f.draftBatchId,
    ...f.draftEntryIds,
    f.postBatchId,
    f.negateBatchId,
    f.ruleId,
    f.rulePatientId,
    f.ruleLineId,
    f.eraChargeId,
  ];
}

/** The same variables with every fixture id replaced by an id that exists nowhere. */
function withUnknownIds(variables: unknown, f: Fixture | readonly string[]): unknown {
  const ids = new Set(Array.isArray(f) ? f : fixtureIds(f as Fixture));
  const replacement = new Map<string, string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string' && ids.has(value)) {
      if (!replacement.has(value)) replacement.set(value, crypto.randomUUID());
      return replacement.get(value);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const replaced = walk(variables);
  expect(replacement.size).toBeGreaterThan(0); // the case does name a fixture id
  return replaced;
}

async function version(patientId: string): Promise<number> {
  const data = await server.ok(admin, SecurityBalanceDocument, { id: patientId });
  return data.patient!.balance.version;
}

// ---------------------------------------------------------------------------------------------------------------
// Transports

type Transport = 'http' | 'ws';
interface FormattedError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}
interface Outcome {
  data: Record<string, unknown> | null;
  errors?: FormattedError[];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDocument = TypedDocumentNode<any, any>;

function client(caller: Caller): Client {
  let found = clients.get(caller.token);
  if (!found) {
    found = server.ws(caller);
    clients.set(caller.token, found);
  }
  return found;
}

/** A query or mutation over either transport: the `data` and `errors` a client gets. */
async function execute(transport: Transport, caller: Caller, document: AnyDocument, variables: unknown): Promise<Outcome> {
  if (transport === 'http') {
    const result = await server.gql(caller, document, variables);
    return { data: (result.data ?? null) as Outcome['data'], ...(result.errors ? { errors: result.errors } : {}) };
  }
  return new Promise<Outcome>((resolve, reject) => {
    let outcome: Outcome | null = null;
    const timer = setTimeout(() => reject(new Error('no answer over WebSocket within 10 s')), 10_000);
    client(caller).subscribe(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          outcome = { data: (result.data ?? null) as Outcome['data'], ...(result.errors ? { errors: result.errors as unknown as FormattedError[] } : {}) };
        },
        error: (error) => {
          clearTimeout(timer);
          // An `error` message (GraphQL errors before or instead of a result).
          if (Array.isArray(error)) resolve({ data: null, errors: error as FormattedError[] });
          else reject(new Error(`the socket closed: ${JSON.stringify(error)}`));
        },
        complete: () => {
          clearTimeout(timer);
          if (outcome) resolve(outcome);
          else reject(new Error('completed without a result'));
        },
      },
    );
  });
}

interface Stream {
  items: { patientId: string; version: number }[];
  errors: FormattedError[] | null;
  ended: boolean;
  stop(): void;
}

function watch(caller: Caller, document: AnyDocument, variables: Record<string, unknown>, field: string): Stream {
  const stream: Stream = { items: [], errors: null, ended: false, stop: () => undefined };
  stream.stop = client(caller).subscribe(
    { query: print(document), variables },
    {
      next: (result) => {
        if (result.errors) stream.errors = result.errors as unknown as FormattedError[];
        const item = (result.data as Record<string, { patientId: string; version: number }> | null | undefined)?.[field];
        if (item) stream.items.push(item);
      },
      error: (error) => {
        stream.errors = Array.isArray(error) ? (error as FormattedError[]) : [{ message: `socket closed ${JSON.stringify(error)}` }];
        stream.ended = true;
      },
      complete: () => {
        stream.ended = true;
      },
    },
  );
  return stream;
}

/** A change to a patient of practice A (1 cent written off its untouched line). */
async function touch(f: Fixture): Promise<void> {
  const result = await server.ok(admin, WriteOffDocument, { input: { responsibilityId: f.lineIds[2], amountCents: 1, reason: 'SMALL_BALANCE' } });
  expect(result.writeOff.userErrors).toEqual([]);
}

// ---------------------------------------------------------------------------------------------------------------
// One case per root field

interface Context {
  caller: Caller;
  transport: Transport;
  role: Role;
}

interface QueryOrMutationCase {
  kind: 'query' | 'mutation';
  column: Column;
  document: AnyDocument;
  /** May read the fixture's current state (a preview token): called right before the request. */
  variables(f: Fixture): unknown;
  /** How much an accepted mutation raises the fixture patient's version: 1 unless said (a DRAFT batch's edits: 0). */
  versionDelta?: 0 | 1;
  /** Own practice, allowed role: the business outcome. */
  own(value: Record<string, unknown>, f: Fixture, ctx: Context): Promise<void> | void;
  /**
   * Another view of what the mutation would change beside the fixture patient's version (a DRAFT batch, the batches
   * of both practices): read before and after every refusal, and unchanged.
   */
  state?(f: Fixture): Promise<unknown>;
  /**
   * Another practice, allowed role. `unknown-id`: the answer equals the one for unknown ids, and is null (queries) or
   * a NOT_FOUND userError (mutations). A function: fields without an id argument show isolation their own way.
   */
  foreign: 'unknown-id' | ((value: Record<string, unknown>, f: Fixture, ctx: Context) => Promise<void> | void);
}

interface SubscriptionCase {
  kind: 'subscription';
  column: Column;
  run(caller: Caller, f: Fixture, expectation: 'forbidden' | 'own' | 'foreign'): Promise<void>;
}

type RootCase = QueryOrMutationCase | SubscriptionCase;
type Value = Record<string, unknown>;
const ids = (edges: unknown) => (edges as { node: { id: string } }[]).map((e) => e.node.id);
interface EntryNode {
  id: string;
  kind: string;
  amountCents: number;
  patient: { id: string };
}
const entriesOf = (batch: unknown) => (batch as { entries: { edges: { node: EntryNode }[] } }).entries.edges.map((e) => e.node);

/** A batch as practice A's admin sees it. */
async function batchState(batchId: string) {
  return (await server.ok(admin, MatrixPostingBatchDocument, { id: batchId })).postingBatch;
}

/** The newest batches of both practices: a refused create adds none to either. */
async function newestBatches() {
  const newest = async (caller: Caller) => ids((await server.ok(caller, MatrixPostingBatchesDocument, { first: 5 })).postingBatches.edges);
  return { mine: await newest(admin), theirs: await newest(otherAdmin) };
}

/** The write-off rules of practice A (as its admin lists them) and of the other practice: a refused create adds to neither. */
async function ruleLists() {
  const list = async (caller: Caller) => (await server.ok(caller, MatrixWriteOffRulesDocument)).writeOffRules;
  return { mine: await list(admin), theirs: await list(otherAdmin) };
}

/** A rule as practice A's admin lists it. */
async function ruleState(ruleId: string) {
  return (await server.ok(admin, MatrixWriteOffRulesDocument)).writeOffRules.find((r) => r.id === ruleId) ?? null;
}

type ImportedBatch = MatrixImportRemittanceFileMutation['importRemittanceFile']['batches'][number];

/** The one batch an accepted import of a file of one payment made: a DRAFT REMITTANCE batch of the caller's. */
function importedBatch(value: Value, ctx: Context): ImportedBatch {
  expect(value.userErrors).toEqual([]);
  const batches = value.batches as ImportedBatch[];
  expect(batches).toHaveLength(1);
  expect(batches[0]).toMatchObject({ kind: 'REMITTANCE', status: 'DRAFT', payerName: 'MATRIX HEALTH PLAN', createdBy: { id: ctx.caller.sub, role: ctx.role } });
  return batches[0];
}

/** An unmatched file's batch: no entry, and the CLAIM_NOT_FOUND issue for its claim. The suffix of its numbers. */
function unmatchedIssue(batch: ImportedBatch): string {
  expect(batch.entries.edges).toEqual([]);
  const suffix = UNMATCHED.exec(batch.issues[0]?.claimNumber ?? '')?.[1];
  expect(batch.issues).toEqual([
    {
      code: 'CLAIM_NOT_FOUND',
      message: `No charge has claim number NOMATCH-${suffix} (CLP01) or line control number NOLC-${suffix}. Give the charge that claim number, or post this claim by hand.`,
      claimNumber: `NOMATCH-${suffix}`,
      payerClaimNumber: 'ICN-MATRIX',
      segment: expect.any(Number),
    },
  ]);
  return suffix!;
}

/** Every batch the caller lists with these filters, from the first page on (newest first). */
async function listedBatches(ctx: Context, first: Value, variables: Value): Promise<{ id: string; kind: string; status: string }[]> {
  type Page = { edges: { node: { id: string; kind: string; status: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  let page = first as unknown as Page;
  const nodes = page.edges.map((e) => e.node);
  while (page.pageInfo.hasNextPage) {
    const next = await execute(ctx.transport, ctx.caller, MatrixPostingBatchesDocument, { ...variables, after: page.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
    page = next.data!.postingBatches as Page;
    nodes.push(...page.edges.map((e) => e.node));
  }
  return nodes;
}

/** A payload with no userErrors and its main object, and the patient's version up by exactly one. */
function accepted(main: string) {
  return async (value: Value, f: Fixture) => {
    expect(value.userErrors).toEqual([]);
    expect(value[main]).toEqual(expect.objectContaining({ id: expect.any(String) }));
    if ('balance' in value) expect((value.balance as { patientId: string }).patientId).toBe(f.patientId);
  };
}

/**
 * A subscription to patients by id (one, or a list of one): the current balance then the change; FORBIDDEN; or, for
 * another practice's patient, the same NOT_FOUND as for an id that does not exist.
 */
function patientStreamCase(document: AnyDocument, field: string, variables: (patientId: string) => Record<string, unknown>): SubscriptionCase {
  return {
    kind: 'subscription',
    column: 'read',
    async run(caller, f, expectation) {
      const stream = watch(caller, document, variables(f.patientId), field);
      try {
        if (expectation === 'own') {
          // The current balance first, then the change.
          await waitFor(() => stream.items.length >= 1 || stream.ended, 'the current balance');
          expect(stream.errors).toBeNull();
          const first = stream.items[0];
          expect(first).toMatchObject({ patientId: f.patientId, version: await version(f.patientId) });
          await touch(f);
          await waitFor(() => stream.items.length >= 2, 'the change');
          expect(stream.items[1]).toMatchObject({ patientId: f.patientId, version: first.version + 1 });
          return;
        }
        await waitFor(() => stream.ended, 'the subscription to end');
        expect(stream.items).toEqual([]);
        if (expectation === 'forbidden') {
          expect(stream.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', FORBIDDEN_MESSAGE]]);
          return;
        }
        // Another practice's patient: the same NOT_FOUND error as for an id that does not exist.
        const unknown = watch(caller, document, variables(crypto.randomUUID()), field);
        await waitFor(() => unknown.ended, 'the unknown-id subscription to end');
        expect(stream.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
        expect(stream.errors).toEqual(unknown.errors);
      } finally {
        stream.stop();
      }
    },
  };
}

const CASES: Record<string, RootCase> = {
  'Query.patient': {
    kind: 'query',
    column: 'read',
    document: PatientDocument,
    variables: (f) => ({ id: f.patientId }),
    own: (v, f) => expect(v).toMatchObject({ id: f.patientId, lastName: f.lastName }),
    foreign: 'unknown-id',
  },
  'Query.patients': {
    kind: 'query',
    column: 'read',
    document: PatientsDocument,
    variables: (f) => ({ search: f.lastName, first: 10 }),
    own: (v, f) => expect(ids((v as { edges: unknown }).edges)).toEqual([f.patientId]),
    foreign: async (v, _f, ctx) => {
      // Searching another practice's patient by name finds nothing, exactly like a name nobody has.
      expect((v as { edges: unknown[] }).edges).toEqual([]);
      const nobody = await execute(ctx.transport, ctx.caller, PatientsDocument, { search: `Nobody${crypto.randomUUID()}`, first: 10 });
      expect(nobody.data?.patients).toEqual(v);
    },
  },
  'Query.charge': {
    kind: 'query',
    column: 'read',
    document: ChargeDocument,
    variables: (f) => ({ id: f.chargeId }),
    own: (v, f) => expect(v).toMatchObject({ id: f.chargeId, patient: { id: f.patientId } }),
    foreign: 'unknown-id',
  },
  'Query.responsibility': {
    kind: 'query',
    column: 'read',
    document: ResponsibilityDocument,
    variables: (f) => ({ id: f.lineIds[0] }),
    own: (v, f) => expect(v).toMatchObject({ id: f.lineIds[0], amountCents: 5000, paidCents: 1000, charge: { id: f.chargeId } }),
    foreign: 'unknown-id',
  },
  'Query.payment': {
    kind: 'query',
    column: 'read',
    document: PaymentDocument,
    variables: (f) => ({ id: f.paymentId }),
    own: (v, f) => expect(v).toMatchObject({ id: f.paymentId, amountCents: 1000 }),
    foreign: 'unknown-id',
  },
  'Query.writeOffReasons': {
    kind: 'query',
    column: 'read',
    document: WriteOffReasonsDocument,
    variables: () => ({}),
    own: (v) => {
      const reasons = v as unknown as { code: string; requiresCustomReason: boolean }[];
      expect(reasons).toHaveLength(11);
      expect(reasons.filter((r) => r.requiresCustomReason).map((r) => r.code)).toEqual(['OTHER']);
    },
    // Not practice data: the same list for everyone.
    foreign: (v) => expect((v as unknown as unknown[]).length).toBe(11),
  },
  'Query.auditTrail': {
    kind: 'query',
    column: 'refund_audit',
    document: AuditTrailDocument,
    variables: (f) => ({ patientId: f.patientId, first: 50 }),
    own: (v, f) => {
      const events = (v as { edges: { node: { operation: string; patientId: string } }[] }).edges.map((e) => e.node);
      expect(events.map((e) => e.operation)).toEqual(expect.arrayContaining(['createCharge', 'recordPayment', 'writeOff', 'createPostingBatch', 'postPostingBatch']));
      // Every event names this patient, a DRAFT batch's edits of its entries included.
      expect(events.filter((e) => e.patientId !== f.patientId).map((e) => `${e.operation} ${e.patientId}`)).toEqual([]);
    },
    foreign: 'unknown-id',
  },
  'Query.postingBatch': {
    kind: 'query',
    column: 'read',
    document: MatrixPostingBatchDocument,
    variables: (f) => ({ id: f.draftBatchId }),
    own: (v, f) => {
      expect(v).toMatchObject({ id: f.draftBatchId, kind: 'DEPOSIT', status: 'DRAFT', createdBy: { id: admin.sub, role: 'ADMIN' }, postedBy: null });
      expect(entriesOf(v)).toEqual(f.draftEntryIds.map((id) => ({ id, kind: 'PAYMENT', amountCents: 100, patient: { id: f.patientId } })));
    },
    foreign: 'unknown-id',
  },
  'Query.postingBatches': {
    kind: 'query',
    column: 'read',
    document: MatrixPostingBatchesDocument,
    variables: () => ({ first: 100, status: 'DRAFT', kind: 'DEPOSIT' }),
    own: async (v, f, ctx) => {
      const listed = await listedBatches(ctx, v, { first: 100, status: 'DRAFT', kind: 'DEPOSIT' });
      expect(listed.filter((b) => b.status !== 'DRAFT' || b.kind !== 'DEPOSIT')).toEqual([]);
      expect(listed.map((b) => b.id)).toEqual(expect.arrayContaining([f.draftBatchId, f.postBatchId]));
      expect(listed.map((b) => b.id)).not.toContain(f.negateBatchId); // POSTED: filtered out
    },
    // No id to guess: another practice lists none of practice A's batches, only its own.
    foreign: async (v, f, ctx) => {
      const listed = (await listedBatches(ctx, v, { first: 100, status: 'DRAFT', kind: 'DEPOSIT' })).map((b) => b.id);
      expect(listed.filter((id) => fixtureIds(f).includes(id))).toEqual([]);
      for (const id of listed) expect(await batchState(id)).toBeNull();
    },
  },
  'Mutation.createPatient': {
    kind: 'mutation',
    column: 'post',
    document: CreatePatientDocument,
    variables: () => ({ input: { firstName: 'Created', lastName: `ByMatrix${crypto.randomBytes(3).toString('hex')}` } }),
    versionDelta: 0,
    own: async (v, _f, ctx) => {
      expect(v.userErrors).toEqual([]);
      const id = (v.patient as { id: string }).id;
      expect(await version(id)).toBe(0);
      expect(ctx.caller.practiceId).toBe(admin.practiceId);
    },
    foreign: async (v) => {
      // No id to guess: the patient is created in the caller's own practice, and practice A cannot see it.
      expect(v.userErrors).toEqual([]);
      const id = (v.patient as { id: string }).id;
      expect((await server.ok(admin, SecurityBalanceDocument, { id })).patient).toBeNull();
      expect((await server.ok(otherAdmin, SecurityBalanceDocument, { id })).patient?.id).toBe(id);
    },
  },
  'Mutation.createCharge': {
    kind: 'mutation',
    column: 'post',
    document: CreateChargeDocument,
    variables: (f) => ({
      input: { patientId: f.patientId, serviceDate: '2026-10-03', procedureCode: '99214', billedCents: 10_000, responsibilities: [{ kind: 'COPAY', amountCents: 2500 }] },
    }),
    own: async (v, f) => {
      await accepted('charge')(v, f);
      expect((v.charge as { responsibilities: unknown[] }).responsibilities).toHaveLength(1);
    },
    foreign: 'unknown-id',
  },
  'Mutation.recordRemittance': {
    kind: 'mutation',
    column: 'remittance',
    document: RecordRemittanceDocument,
    variables: (f) => ({
      input: { chargeId: f.remittanceChargeId, remittanceId: `ERA-${crypto.randomUUID()}`, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 1000 }] },
    }),
    own: async (v, f) => {
      await accepted('charge')(v, f);
      expect((v.charge as { responsibilities: { origin: string }[] }).responsibilities.map((r) => r.origin)).toContain('REMITTANCE');
    },
    foreign: 'unknown-id',
  },
  'Mutation.recordPayment': {
    kind: 'mutation',
    column: 'post',
    document: RecordPaymentDocument,
    variables: (f) => ({ input: { patientId: f.patientId, amountCents: 500, method: 'CASH', allocations: [{ responsibilityId: f.lineIds[2], amountCents: 500 }] } }),
    own: async (v, f) => {
      await accepted('payment')(v, f);
      expect(v.payment).toMatchObject({ amountCents: 500, allocatedCents: 500 });
    },
    foreign: 'unknown-id',
  },
  'Mutation.refundPayment': {
    kind: 'mutation',
    column: 'refund_audit',
    document: RefundPaymentDocument,
    variables: (f) => ({ input: { paymentId: f.paymentId, amountCents: 200, method: 'EXTERNAL_CHECK', reason: 'Overpaid' } }),
    own: async (v, f) => {
      await accepted('refund')(v, f);
      expect(v.payment).toMatchObject({ id: f.paymentId });
      expect([200, 400]).toContain((v.payment as { refundedCents: number }).refundedCents);
    },
    foreign: 'unknown-id',
  },
  'Mutation.writeOff': {
    kind: 'mutation',
    column: 'post',
    document: WriteOffDocument,
    variables: (f) => ({ input: { responsibilityId: f.lineIds[2], amountCents: 100, reason: 'BAD_DEBT' } }),
    own: async (v, f) => {
      await accepted('writeOff')(v, f);
      expect(v.responsibility).toMatchObject({ id: f.lineIds[2], writtenOffCents: expect.any(Number) });
    },
    foreign: 'unknown-id',
  },
  'Mutation.removeWriteOff': {
    kind: 'mutation',
    column: 'post',
    document: RemoveWriteOffDocument,
    variables: (f) => ({ input: { writeOffId: f.writeOffId, amountCents: 100, reason: 'Reinstated' } }),
    own: async (v, f) => {
      await accepted('writeOff')(v, f);
      expect(v.writeOff).toMatchObject({ id: f.writeOffId });
      expect([400, 300]).toContain((v.writeOff as { activeCents: number }).activeCents);
    },
    foreign: 'unknown-id',
  },
  'Mutation.cancelPR': {
    kind: 'mutation',
    column: 'post',
    document: CancelPrDocument,
    variables: (f) => ({ input: { responsibilityId: f.lineIds[3], reason: 'Entered twice' } }),
    own: async (v, f) => {
      await accepted('responsibility')(v, f);
      expect(v.responsibility).toMatchObject({ id: f.lineIds[3], status: 'CANCELLED' });
    },
    foreign: 'unknown-id',
  },
  // docs/design.md §8.1: a DEPOSIT batch (the kinds are checked role by role after the matrix).
  'Mutation.createPostingBatch': {
    kind: 'mutation',
    column: 'post',
    document: MatrixCreatePostingBatchDocument,
    // Its entry names the patient and the line: another practice's are NOT_FOUND like unknown ones.
    variables: (f) => ({
      input: { kind: 'DEPOSIT', reference: `Deposit ${crypto.randomBytes(3).toString('hex')}`, depositDate: '2026-10-03', entries: [depositEntry(f.patientId, f.lineIds[2])] },
    }),
    versionDelta: 0,
    state: () => newestBatches(),
    own: (v, f, ctx) => {
      expect(v.userErrors).toEqual([]);
      expect(v.batch).toMatchObject({ kind: 'DEPOSIT', status: 'DRAFT', createdBy: { id: ctx.caller.sub, role: ctx.role }, postedBy: null });
      expect(entriesOf(v.batch)).toEqual([expect.objectContaining({ kind: 'PAYMENT', amountCents: 100, patient: { id: f.patientId } })]);
    },
    foreign: 'unknown-id',
  },
  'Mutation.addPostingEntries': {
    kind: 'mutation',
    column: 'post',
    document: MatrixAddPostingEntriesDocument,
    variables: (f) => ({ input: { batchId: f.draftBatchId, entries: [depositEntry(f.patientId, f.lineIds[2])] } }),
    versionDelta: 0,
    state: (f) => batchState(f.draftBatchId),
    own: (v, f) => {
      expect(v.userErrors).toEqual([]);
      expect(v.batch).toMatchObject({ id: f.draftBatchId, status: 'DRAFT' });
      const entries = entriesOf(v.batch);
      expect(entries.map((e) => e.id).slice(0, 2)).toEqual(f.draftEntryIds);
      expect(entries.slice(2)).toEqual([expect.objectContaining({ kind: 'PAYMENT', amountCents: 100, patient: { id: f.patientId } })]);
    },
    foreign: 'unknown-id',
  },
  'Mutation.removePostingEntry': {
    kind: 'mutation',
    column: 'post',
    document: MatrixRemovePostingEntryDocument,
    variables: (f) => ({ input: { entryId: f.draftEntryIds[0] } }),
    versionDelta: 0,
    state: (f) => batchState(f.draftBatchId),
    own: (v, f) => {
      expect(v.userErrors).toEqual([]);
      expect(v.batch).toMatchObject({ id: f.draftBatchId, status: 'DRAFT' });
      // The other entry stays, and so does the one addPostingEntries added earlier.
      const entries = entriesOf(v.batch).map((e) => e.id);
      expect(entries).not.toContain(f.draftEntryIds[0]);
      expect(entries).toHaveLength(2);
      expect(entries[0]).toBe(f.draftEntryIds[1]);
    },
    foreign: 'unknown-id',
  },
  'Mutation.postPostingBatch': {
    kind: 'mutation',
    column: 'post',
    document: MatrixPostPostingBatchDocument,
    // The token of a preview taken just now (an earlier case changed the patient since the fixture was made).
    variables: async (f) => ({ input: { batchId: f.postBatchId, previewToken: await previewToken(f.postBatchId) } }),
    state: (f) => batchState(f.postBatchId),
    own: async (v, f, ctx) => {
      expect(v.userErrors).toEqual([]);
      expect(v.batch).toMatchObject({ id: f.postBatchId, kind: 'DEPOSIT', status: 'POSTED', postedBy: { id: ctx.caller.sub, role: ctx.role } });
      expect(v.balances).toEqual([{ patientId: f.patientId, version: await version(f.patientId) }]);
    },
    foreign: 'unknown-id',
  },
  'Mutation.negatePostingBatch': {
    kind: 'mutation',
    column: 'refund_audit',
    document: MatrixNegatePostingBatchDocument,
    variables: (f) => ({ input: { batchId: f.negateBatchId, reason: 'Deposit entered twice' } }),
    state: (f) => batchState(f.negateBatchId),
    own: async (v, f, ctx) => {
      expect(v.userErrors).toEqual([]);
      const negation = v.negation as { id: string };
      expect(v.batch).toMatchObject({ id: f.negateBatchId, status: 'NEGATED', negatedBy: { id: negation.id } });
      expect(negation).toMatchObject({ kind: 'DEPOSIT', status: 'POSTED', negates: { id: f.negateBatchId }, createdBy: { id: ctx.caller.sub, role: ctx.role } });
      expect(v.balances).toEqual([{ patientId: f.patientId, version: await version(f.patientId) }]);
    },
    foreign: 'unknown-id',
  },
  'Mutation.voidPayment': {
    kind: 'mutation',
    column: 'refund_audit',
    document: MatrixVoidPaymentDocument,
    variables: (f) => ({ input: { paymentId: f.voidPaymentId, reason: 'Check bounced' } }),
    own: async (v, f) => {
      await accepted('payment')(v, f);
      expect(v.payment).toMatchObject({ id: f.voidPaymentId, amountCents: 300, voidedCents: 300, allocatedCents: 0, voidedAt: expect.any(String) });
    },
    foreign: 'unknown-id',
  },
  'Mutation.applyCredit': {
    kind: 'mutation',
    column: 'post',
    document: MatrixApplyCreditDocument,
    variables: (f) => ({ input: { patientId: f.patientId, allocations: [{ responsibilityId: f.lineIds[2], amountCents: 100 }] } }),
    own: (v, f) => {
      expect(v.userErrors).toEqual([]);
      expect(v.payments).toEqual([{ id: f.creditPaymentId, allocatedCents: 100, unallocatedCents: 300 }]);
      expect((v.balance as { patientId: string }).patientId).toBe(f.patientId);
    },
    foreign: 'unknown-id',
  },
  'Mutation.reverseRemittance': {
    kind: 'mutation',
    column: 'remittance',
    document: MatrixReverseRemittanceDocument,
    variables: (f) => ({ input: { chargeId: f.reverseChargeId, remittanceId: f.reverseRemittanceId, reason: 'Payer recouped the claim' } }),
    own: async (v, f) => {
      await accepted('charge')(v, f);
      expect((v.charge as { responsibilities: { origin: string; status: string }[] }).responsibilities.map((r) => [r.origin, r.status])).toEqual([['REMITTANCE', 'REVERSED']]);
    },
    foreign: 'unknown-id',
  },
  // docs/design.md §9.2: write-off rules. A rule reads the whole practice: the fixture's rule qualifies its line alone.
  'Query.writeOffRules': {
    kind: 'query',
    column: 'read',
    document: MatrixWriteOffRulesDocument,
    variables: () => ({}),
    own: async (v, f) => {
      const rules = v as unknown as { id: string }[];
      expect(rules).toEqual((await ruleLists()).mine);
      expect(rules.find((r) => r.id === f.ruleId)).toEqual({
        id: f.ruleId,
        name: f.ruleName,
        reason: 'SMALL_BALANCE',
        customReason: null,
        maxOpenCents: f.ruleLineCents,
        minDaysSinceService: 0,
        kinds: null,
        active: true,
        createdBy: admin.sub,
        updatedBy: admin.sub,
      });
    },
    // No id to guess: another practice lists none of practice A's rules, only its own.
    foreign: async (v) => {
      const rules = v as unknown as { id: string }[];
      const { mine, theirs } = await ruleLists();
      expect(rules).toEqual(theirs);
      expect(rules.filter((r) => mine.some((m) => m.id === r.id))).toEqual([]);
    },
  },
  'Mutation.createWriteOffRule': {
    kind: 'mutation',
    column: 'refund_audit',
    document: MatrixCreateWriteOffRuleDocument,
    // A rule that qualifies nothing of the matrix's (copays of 1 cent served 100 years before the run); it is not run.
    variables: () => ({
      input: { name: `Created by the matrix ${hex()}`, reason: 'OTHER', customReason: 'Matrix threshold', maxOpenCents: 1, minDaysSinceService: 36_500, kinds: ['COPAY'] },
    }),
    versionDelta: 0,
    // Practice A's rules: a refused create adds none (an accepted one from another practice adds one there).
    state: async () => (await ruleLists()).mine,
    own: async (v, _f, ctx) => {
      expect(v.userErrors).toEqual([]);
      const rule = v.rule as { id: string };
      expect(rule).toEqual({
        id: expect.any(String),
        name: expect.stringMatching(/^Created by the matrix /),
        reason: 'OTHER',
        customReason: 'Matrix threshold',
        maxOpenCents: 1,
        minDaysSinceService: 36_500,
        kinds: ['COPAY'],
        active: true,
        createdBy: ctx.caller.sub,
        updatedBy: ctx.caller.sub,
      });
      expect((await ruleLists()).mine.at(-1)).toEqual(rule); // oldest first: the newest is last
    },
    foreign: async (v, _f, ctx) => {
      // No id to guess: the rule is created in the caller's own practice, and practice A does not list it.
      expect(v.userErrors).toEqual([]);
      const rule = v.rule as { id: string };
      expect(rule).toMatchObject({ createdBy: ctx.caller.sub, active: true });
      const { mine, theirs } = await ruleLists();
      expect(mine.map((r) => r.id)).not.toContain(rule.id);
      expect(theirs.at(-1)).toEqual(rule);
    },
  },
  'Mutation.updateWriteOffRule': {
    kind: 'mutation',
    column: 'refund_audit',
    document: MatrixUpdateWriteOffRuleDocument,
    // A new name only: what the rule qualifies stays as it is.
    variables: (f) => ({ input: { ruleId: f.ruleId, name: `Renamed by the matrix ${hex()}` } }),
    versionDelta: 0,
    state: (f) => ruleState(f.ruleId),
    own: async (v, f, ctx) => {
      expect(v.userErrors).toEqual([]);
      expect(v.rule).toEqual({
        id: f.ruleId,
        name: expect.stringMatching(/^Renamed by the matrix /),
        reason: 'SMALL_BALANCE',
        customReason: null,
        maxOpenCents: f.ruleLineCents,
        minDaysSinceService: 0,
        kinds: null,
        active: true,
        createdBy: admin.sub,
        updatedBy: ctx.caller.sub,
      });
      expect(await ruleState(f.ruleId)).toEqual(v.rule);
    },
    foreign: 'unknown-id',
  },
  'Mutation.runWriteOffRule': {
    kind: 'mutation',
    column: 'remittance',
    document: MatrixRunWriteOffRuleDocument,
    variables: (f) => ({ input: { ruleId: f.ruleId, asOf: f.ruleAsOf } }),
    // A DRAFT batch: no balance changes until it is posted (the rule's patient's included).
    versionDelta: 0,
    state: async (f) => ({ batches: await newestBatches(), rulePatient: await version(f.rulePatientId) }),
    own: async (v, f, ctx) => {
      expect(v.userErrors).toEqual([]);
      expect(v.batch).toMatchObject({ kind: 'ADJUSTMENT', status: 'DRAFT', reference: `Rule "${f.ruleName}" as of ${f.ruleAsOf}`, createdBy: { id: ctx.caller.sub, role: ctx.role } });
      const entries = (v.batch as { entries: { edges: { node: unknown }[] } }).entries.edges.map((e) => e.node);
      expect(entries).toEqual([{ id: expect.any(String), kind: 'WRITE_OFF', amountCents: f.ruleLineCents, patient: { id: f.rulePatientId }, responsibility: { id: f.ruleLineId } }]);
      expect(await version(f.rulePatientId)).toBe(1);
      expect((await batchState((v.batch as { id: string }).id))?.createdBy).toEqual({ id: ctx.caller.sub, role: ctx.role });
    },
    foreign: 'unknown-id',
  },
  // docs/design.md §9.1: an 835 file whose claim matches nothing is a DRAFT batch with a CLAIM_NOT_FOUND issue.
  'Mutation.importRemittanceFile': {
    kind: 'mutation',
    column: 'remittance',
    document: MatrixImportRemittanceFileDocument,
    variables: () => ({ input: { content: unmatchedFile(), fileName: 'matrix.835' } }),
    versionDelta: 0,
    // Practice A's batches: a refused import adds none (an accepted one from another practice adds one there).
    state: async () => (await newestBatches()).mine,
    own: async (v, f, ctx) => {
      const batch = importedBatch(v, ctx);
      unmatchedIssue(batch);
      expect((await server.ok(admin, MatrixImportedBatchDocument, { id: batch.id })).postingBatch).toEqual(batch);
      // The same file naming the fixture's charge matches it: an entry of its PR, to preview and post (nothing posted yet).
      const matched = await execute(ctx.transport, ctx.caller, MatrixImportRemittanceFileDocument, { input: { content: eraFile(f.eraClaimNumber, f.eraControlNumber) } });
      expect(matched.errors).toBeUndefined();
      const proposed = importedBatch(matched.data!.importRemittanceFile as Value, ctx);
      expect(proposed.issues).toEqual([]);
      expect(proposed.entries.edges.map((e) => e.node)).toEqual([{ id: expect.any(String), kind: 'REMITTANCE', amountCents: 100, patient: { id: f.patientId }, charge: { id: f.eraChargeId } }]);
      expect((await server.ok(admin, MatrixChargeRemittancesDocument, { id: f.eraChargeId })).charge!.responsibilities).toEqual([]);
    },
    // No id to guess: the import is the caller's practice's, and a file naming practice A's charge (its claim number and
    // line control number) matches nothing there, exactly like a claim nobody has.
    foreign: async (v, f, ctx) => {
      const unmatched = importedBatch(v, ctx);
      const suffix = unmatchedIssue(unmatched);
      expect(await batchState(unmatched.id)).toBeNull();
      expect((await server.ok(otherAdmin, MatrixImportedBatchDocument, { id: unmatched.id })).postingBatch).toEqual(unmatched);

      const theirs = await execute(ctx.transport, ctx.caller, MatrixImportRemittanceFileDocument, { input: { content: eraFile(f.eraClaimNumber, f.eraControlNumber), fileName: 'matrix.835' } });
      expect(theirs.errors).toBeUndefined();
      const batch = importedBatch(theirs.data!.importRemittanceFile as Value, ctx);
      expect(batch.entries.edges).toEqual([]);
      const likeUnknown = JSON.stringify(unmatched.issues).replaceAll(`NOMATCH-${suffix}`, f.eraClaimNumber).replaceAll(`NOLC-${suffix}`, f.eraControlNumber);
      expect(batch.issues).toEqual(JSON.parse(likeUnknown));
      expect(await batchState(batch.id)).toBeNull();
      expect((await server.ok(admin, MatrixChargeRemittancesDocument, { id: f.eraChargeId })).charge).toEqual({
        id: f.eraChargeId,
        claimNumber: f.eraClaimNumber,
        lineControlNumber: f.eraControlNumber,
        responsibilities: [],
      });
    },
  },
  'Subscription.patientBalanceChanged': patientStreamCase(PatientBalanceChangedDocument, 'patientBalanceChanged', (patientId) => ({ patientId })),
  'Subscription.patientBalancesChanged': patientStreamCase(PatientBalancesChangedDocument, 'patientBalancesChanged', (patientId) => ({ patientIds: [patientId] })),
  'Subscription.practiceBalanceChanged': {
    kind: 'subscription',
    column: 'read',
    async run(caller, f, expectation) {
      const stream = watch(caller, PracticeBalanceChangedDocument, {}, 'practiceBalanceChanged');
      try {
        if (expectation === 'forbidden') {
          await waitFor(() => stream.ended, 'the subscription to end');
          expect(stream.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', FORBIDDEN_MESSAGE]]);
          return;
        }
        // The stream sends nothing until a change: change the practice's patients until an event shows it is live.
        const sentinel = async (): Promise<{ patientId: string; version: number }> => {
          if (expectation === 'own') {
            await touch(f);
            return { patientId: f.patientId, version: await version(f.patientId) };
          }
          const theirs = await newPatient(server, otherAdmin, 'Their', 'Sentinel');
          await newCharge(server, otherAdmin, theirs, [100]);
          return { patientId: theirs, version: 1 };
        };
        const seen = (s: { patientId: string; version: number }) => stream.items.some((i) => i.patientId === s.patientId && i.version === s.version);
        let live = false;
        for (let attempt = 0; attempt < 50 && !live && !stream.ended; attempt++) {
          const s = await sentinel();
          await waitFor(() => seen(s) || stream.ended, 'a sentinel event', 300).then(
            () => (live = seen(s)),
            () => undefined,
          );
        }
        expect(stream.errors).toBeNull();
        expect(live).toBe(true);
        if (expectation === 'own') return;
        // Live now: a change in practice A, then a sentinel in B. Events of one stream arrive in commit order, so once
        // the sentinel is here an event for A's patient would have arrived before it.
        await touch(f);
        const last = await sentinel();
        await waitFor(() => seen(last), 'the last sentinel');
        expect(stream.items.filter((i) => i.patientId === f.patientId)).toEqual([]);
      } finally {
        stream.stop();
      }
    },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// The matrix

function rootFields(): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((type): type is GraphQLObjectType => Boolean(type))
    .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`))
    .sort();
}

test('the matrix has a case for every root field of the built schema, and no case for a field it lacks', () => {
  const fields = rootFields();
  expect(fields.length).toBeGreaterThanOrEqual(17);
  expect(Object.keys(CASES).sort()).toEqual(fields);
  for (const field of fields) expect(CASES[field].kind).toBe(field.split('.')[0].toLowerCase());
});

test('the docs/design.md §4 table as written here matches the contract: reads for all, refunds and audit for managers', () => {
  // A guard on the test's own table: every role reads; only BILLING_MANAGER and ADMIN refund or read the audit trail.
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes('read'))).toEqual(ROLES);
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes('refund_audit'))).toEqual(['BILLING_MANAGER', 'ADMIN']);
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes('remittance'))).toEqual(['BILLING', 'BILLING_MANAGER', 'ADMIN']);
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes('post'))).toEqual(['FRONT_DESK', 'BILLING', 'BILLING_MANAGER', 'ADMIN']);
});

describe.each(ROLES)('%s', (role) => {
  test.each(['own practice', 'another practice'] as const)('every root field × HTTP and WebSocket, %s', async (where) => {
    const caller = await server.caller(role, where === 'own practice' ? server.practice : OTHER_PRACTICE, `${role.toLowerCase()}-matrix`);
    // One fixture for reads and subscriptions, one per transport for the mutations (each leaves room for the others).
    const shared = await fixture();
    const forMutations: Record<Transport, Fixture> = { http: await fixture(), ws: await fixture() };
    for (const field of rootFields()) {
      const spec = CASES[field];
      if (!spec) throw new Error(`no matrix case for ${field}: add one to CASES`);
      const [, name] = field.split('.');
      const allowed = DESIGN_GRANTS[role].includes(spec.column);
      const label = `${role} ${field} (${where})`;

      if (spec.kind === 'subscription') {
        counts.cases += 1;
        await spec.run(caller, shared, !allowed ? 'forbidden' : where === 'own practice' ? 'own' : 'foreign').catch((error: Error) => {
          throw new Error(`${label} over ws: ${error.message}`);
        });
        counts[!allowed ? 'forbidden' : where === 'own practice' ? 'business' : 'likeUnknown'] += 1;
        continue;
      }

      const refusals: Record<Transport, Outcome | null> = { http: null, ws: null };
      for (const transport of ['http', 'ws'] as const) {
        counts.cases += 1;
        const ctx: Context = { caller, transport, role };
        const f = spec.kind === 'mutation' ? forMutations[transport] : shared;
        const before = await version(f.patientId);
        const stateBefore = spec.state ? await spec.state(f) : undefined;
        const variables = await spec.variables(f);
        const outcome = await execute(transport, caller, spec.document, variables);
        const value = outcome.data?.[name] as Value | null | undefined;
        const where_ = `${label} over ${transport}: ${JSON.stringify(outcome).slice(0, 400)}`;

        if (!allowed) {
          // FORBIDDEN, and nothing changed: on that field for a query; for a mutation, the whole document is refused
          // before any of it runs (so no field has a path).
          expect({ where: where_, codes: outcome.errors?.map((e) => e.extensions?.code), paths: outcome.errors?.map((e) => e.path) }).toEqual({
            where: where_,
            codes: ['FORBIDDEN'],
            paths: [spec.kind === 'mutation' ? undefined : [name]],
          });
          expect(outcome.errors![0].message).toBe(FORBIDDEN_MESSAGE);
          expect(value ?? null).toBeNull();
          expect(await version(f.patientId)).toBe(before);
          if (spec.state) expect({ where: where_, state: await spec.state(f) }).toEqual({ where: where_, state: stateBefore });
          refusals[transport] = outcome;
          counts.forbidden += 1;
          continue;
        }

        expect({ where: where_, errors: outcome.errors }).toEqual({ where: where_, errors: undefined });
        if (where === 'own practice') {
          expect(value).toBeTruthy();
          await Promise.resolve(spec.own(value as Value, f, ctx)).catch((error: Error) => {
            throw new Error(`${where_}\n${error.message}`);
          });
          if (spec.kind === 'mutation') expect(await version(f.patientId)).toBe(before + (spec.versionDelta ?? 1));
          counts.business += 1;
          continue;
        }

        // Another practice.
        if (spec.foreign === 'unknown-id') {
          const unknown = await execute(transport, caller, spec.document, withUnknownIds(variables, f));
          expect({ where: where_, answer: outcome }).toEqual({ where: where_, answer: unknown });
          if (spec.kind === 'query') {
            if (field === 'Query.auditTrail') expect((value as { edges: unknown[] }).edges).toEqual([]);
            else expect(value).toBeNull();
          } else {
            const payload = value as Value;
            expect((payload.userErrors as { code: string }[]).map((e) => e.code)).toEqual(['NOT_FOUND']);
            // Every object null, every list (a batch's balances, applied credit's payments) empty.
            for (const [key, inner] of Object.entries(payload)) if (key !== 'userErrors') expect(inner).toEqual(Array.isArray(inner) ? [] : null);
          }
          refusals[transport] = outcome;
          counts.likeUnknown += 1;
        } else {
          await Promise.resolve(spec.foreign(value as Value, f, ctx)).catch((error: Error) => {
            throw new Error(`${where_}\n${error.message}`);
          });
          counts.isolated += 1;
        }
        expect(await version(f.patientId)).toBe(before);
        if (spec.state) expect({ where: where_, state: await spec.state(f) }).toEqual({ where: where_, state: stateBefore });
      }
      // A refusal reads the same on both transports.
      if (refusals.http || refusals.ws) expect({ field, ws: refusals.ws }).toEqual({ field, ws: refusals.http });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// docs/design.md §8.1: a batch's kind decides who may create, edit and post it. The document is allowed to every role
// that may post (the least any kind needs); a role that may not work this kind gets a FORBIDDEN userError from the
// service, changes nothing, and the refusal is in the audit trail. Another practice's batch is NOT_FOUND for every role
// that gets that far, whatever its kind: refusing FORBIDDEN there would tell that the id exists.

type BatchKind = 'DEPOSIT' | 'REMITTANCE' | 'ADJUSTMENT';
const KIND_COLUMN: Record<BatchKind, Column> = { DEPOSIT: 'post', REMITTANCE: 'remittance', ADJUSTMENT: 'remittance' };

interface KindFixture {
  patientId: string;
  /** A STAFF line of 20000 for payments and write-offs of 100. */
  lineId: string;
  /** A charge without PR for remittances of 100. */
  chargeId: string;
}

/** An entry of 100 that a batch of this kind holds: a payment, a remittance, a write-off. */
function entryFor(kind: BatchKind, k: KindFixture) {
  if (kind === 'DEPOSIT') return depositEntry(k.patientId, k.lineId);
  if (kind === 'REMITTANCE') {
    return { remittance: { chargeId: k.chargeId, remittanceId: `ERA-${crypto.randomUUID()}`, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100 }] } };
  }
  return { writeOff: { responsibilityId: k.lineId, amountCents: 100, reason: 'SMALL_BALANCE' } };
}

interface KindAttempt {
  field: 'createPostingBatch' | 'addPostingEntries' | 'removePostingEntry' | 'postPostingBatch';
  document: AnyDocument;
  variables: Value;
  /** The batch it works on (none for create). */
  batchId: string | null;
  own(value: Value, caller: Caller): Promise<void> | void;
}

test('the docs/design.md §8.1 batch kinds as written here: deposits for those who post, the rest for those who record remittances', () => {
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes(KIND_COLUMN.DEPOSIT))).toEqual(['FRONT_DESK', 'BILLING', 'BILLING_MANAGER', 'ADMIN']);
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes(KIND_COLUMN.REMITTANCE))).toEqual(['BILLING', 'BILLING_MANAGER', 'ADMIN']);
  expect(ROLES.filter((r) => DESIGN_GRANTS[r].includes(KIND_COLUMN.ADJUSTMENT))).toEqual(['BILLING', 'BILLING_MANAGER', 'ADMIN']);
  // The matrix's batch cases are DEPOSIT batches, so their column is the deposit's.
  for (const field of ['createPostingBatch', 'addPostingEntries', 'removePostingEntry', 'postPostingBatch']) expect(CASES[`Mutation.${field}`].column).toBe(KIND_COLUMN.DEPOSIT);
});

describe.each(['DEPOSIT', 'REMITTANCE', 'ADJUSTMENT'] as const)('%s batches', (kind) => {
  test.each(['own practice', 'another practice'] as const)('every role × create, add entries, remove an entry, post, as the kind allows, %s', async (where) => {
    const patientId = await newPatient(server, admin, 'Kind', `Batch${kind}`);
    const k: KindFixture = {
      patientId,
      lineId: (await newCharge(server, admin, patientId, [20_000])).lineIds[0],
      chargeId: (await newCharge(server, admin, patientId, [], 50_000)).chargeId,
    };
    for (const role of ROLES) {
      const practiceId = where === 'own practice' ? server.practice : OTHER_PRACTICE;
      const caller = await server.caller(role, practiceId, `${role.toLowerCase()}-${kind.toLowerCase()}-${where === 'own practice' ? 'own' : 'other'}`);
      const practiceAdmin = where === 'own practice' ? admin : otherAdmin;
      const mayPost = DESIGN_GRANTS[role].includes('post');
      const mayWork = DESIGN_GRANTS[role].includes(KIND_COLUMN[kind]);
      // Batches of practice A, made by its admin, for the role to work on.
      const toAdd = await draftBatch(admin, { kind, entries: [entryFor(kind, k)] });
      const toRemove = await draftBatch(admin, { kind, entries: [entryFor(kind, k), entryFor(kind, k)] });
      const toPost = await draftBatch(admin, { kind, entries: [entryFor(kind, k)] });
      const known = [k.patientId, k.lineId, k.chargeId, toAdd.id, toRemove.id, toPost.id, ...entriesOf(toRemove).map((e) => e.id)];
      const attempts: KindAttempt[] = [
        {
          field: 'createPostingBatch',
          document: MatrixCreatePostingBatchDocument,
          variables: { input: { kind, reference: `${kind} by ${role}`, entries: [entryFor(kind, k)] } },
          batchId: null,
          own: (v, c) => {
            expect(v.batch).toMatchObject({ kind, status: 'DRAFT', createdBy: { id: c.sub, role } });
            expect(entriesOf(v.batch)).toHaveLength(1);
          },
        },
        {
          field: 'addPostingEntries',
          document: MatrixAddPostingEntriesDocument,
          variables: { input: { batchId: toAdd.id, entries: [entryFor(kind, k)] } },
          batchId: toAdd.id,
          own: (v) => {
            expect(v.batch).toMatchObject({ id: toAdd.id, kind, status: 'DRAFT' });
            expect(entriesOf(v.batch)).toHaveLength(2);
          },
        },
        {
          field: 'removePostingEntry',
          document: MatrixRemovePostingEntryDocument,
          variables: { input: { entryId: toRemove.entries.edges[0].node.id } },
          batchId: toRemove.id,
          own: (v) => {
            expect(v.batch).toMatchObject({ id: toRemove.id, kind, status: 'DRAFT' });
            expect(entriesOf(v.batch).map((e) => e.id)).toEqual([toRemove.entries.edges[1].node.id]);
          },
        },
        {
          field: 'postPostingBatch',
          document: MatrixPostPostingBatchDocument,
          variables: { input: { batchId: toPost.id, previewToken: await previewToken(toPost.id) } },
          batchId: toPost.id,
          own: async (v, c) => {
            expect(v.batch).toMatchObject({ id: toPost.id, kind, status: 'POSTED', postedBy: { id: c.sub, role } });
            expect(v.balances).toEqual([{ patientId, version: await version(patientId) }]);
          },
        },
      ];
      for (const attempt of attempts) {
        const label = `${role} ${attempt.field} of a ${kind} batch (${where})`;
        const stateOf = async () => ({ version: await version(patientId), batch: attempt.batchId && (await batchState(attempt.batchId)), newest: await newestBatches() });
        const before = await stateOf();
        const outcome = await execute('http', caller, attempt.document, attempt.variables);
        const value = outcome.data?.[attempt.field] as Value | null | undefined;
        const where_ = `${label}: ${JSON.stringify(outcome).slice(0, 400)}`;

        // Another practice's batch (or entry, or the patient an entry names) is unknown there, whatever its kind; only a
        // create, which names no batch, meets the kind rule first.
        const expected = !mayPost
          ? 'document refused'
          : !mayWork && (where === 'own practice' || attempt.field === 'createPostingBatch')
            ? 'FORBIDDEN'
            : where === 'own practice'
              ? 'accepted'
              : 'NOT_FOUND';

        if (expected === 'document refused') {
          // The document itself is refused before it runs, whatever the kind.
          expect({ where: where_, errors: outcome.errors?.map((e) => [e.extensions?.code, e.message, e.path]) }).toEqual({
            where: where_,
            errors: [['FORBIDDEN', FORBIDDEN_MESSAGE, undefined]],
          });
          expect(value ?? null).toBeNull();
        } else {
          expect({ where: where_, errors: outcome.errors }).toEqual({ where: where_, errors: undefined });
          const userErrors = (value!.userErrors as { code: string; message: string }[]).map((e) => e.code);
          if (expected === 'accepted') {
            expect({ where: where_, userErrors }).toEqual({ where: where_, userErrors: [] });
            await Promise.resolve(attempt.own(value!, caller)).catch((error: Error) => {
              throw new Error(`${where_}\n${error.message}`);
            });
            expect(await version(patientId)).toBe(before.version + (attempt.field === 'postPostingBatch' ? 1 : 0));
            counts.business += 1;
            continue;
          }
          expect({ where: where_, userErrors }).toEqual({ where: where_, userErrors: [expected] });
          if (expected === 'FORBIDDEN') expect((value!.userErrors as { message: string }[])[0].message).toBe(FORBIDDEN_MESSAGE);
          for (const [key, inner] of Object.entries(value!)) if (key !== 'userErrors') expect(inner).toEqual(Array.isArray(inner) ? [] : null);
          if (where === 'another practice') {
            const unknown = await execute('http', caller, attempt.document, withUnknownIds(attempt.variables, known));
            expect({ where: where_, answer: outcome }).toEqual({ where: where_, answer: unknown });
          }
        }
        // Refused: nothing changed, and the refusal is in the caller's practice's audit trail with its code.
        expect({ where: where_, state: await stateOf() }).toEqual({ where: where_, state: before });
        const trail = await server.ok(practiceAdmin, AuditTrailDocument, { first: 50 });
        expect({ where: where_, trail: trail.auditTrail.edges.map((e) => e.node) }).toEqual({
          where: where_,
          trail: expect.arrayContaining([
            expect.objectContaining({ operation: attempt.field, outcome: 'REFUSED', code: expected === 'NOT_FOUND' ? 'NOT_FOUND' : 'FORBIDDEN', actor: { id: caller.sub, role } }),
          ]),
        });
        counts[expected === 'NOT_FOUND' ? 'likeUnknown' : 'forbidden'] += 1;
      }
    }
  });
});
