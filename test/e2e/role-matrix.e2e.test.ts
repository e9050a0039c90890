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
 */
import crypto from 'node:crypto';
import { GraphQLObjectType, GraphQLSchema, print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import {
  AuditTrailDocument,
  CancelPrDocument,
  ChargeDocument,
  CreateChargeDocument,
  CreatePatientDocument,
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
}

let fixtureCounter = 0;
async function fixture(): Promise<Fixture> {
  const lastName = `Matrix${++fixtureCounter}x${crypto.randomBytes(3).toString('hex')}`;
  const patientId = await newPatient(server, admin, 'Role', lastName);
  const { chargeId, lineIds } = await newCharge(server, admin, patientId, [5000, 3000, 2000, 1500]);
  const payment = await server.ok(admin, RecordPaymentDocument, {
    input: { patientId, amountCents: 1000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 1000 }] },
  });
  const writeOff = await server.ok(admin, WriteOffDocument, { input: { responsibilityId: lineIds[1], amountCents: 500, reason: 'SMALL_BALANCE' } });
  const remittance = await newCharge(server, admin, patientId, [], 50_000);
  return {
    patientId,
    lastName,
    chargeId,
    lineIds,
    paymentId: payment.recordPayment.payment!.id,
    writeOffId: writeOff.writeOff.writeOff!.id,
    remittanceChargeId: remittance.chargeId,
  };
}

/** The same variables with every fixture id replaced by an id that exists nowhere. */
function withUnknownIds(variables: unknown, f: Fixture): unknown {
  const ids = new Set([f.patientId, f.chargeId, ...f.lineIds, f.paymentId, f.writeOffId, f.remittanceChargeId]);
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

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
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
  variables(f: Fixture): unknown;
  /** Own practice, allowed role: the business outcome. */
  own(value: Record<string, unknown>, f: Fixture, ctx: Context): Promise<void> | void;
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
      expect(events.map((e) => e.operation)).toEqual(expect.arrayContaining(['createCharge', 'recordPayment', 'writeOff']));
      expect(events.every((e) => e.patientId === f.patientId)).toBe(true);
    },
    foreign: 'unknown-id',
  },
  'Mutation.createPatient': {
    kind: 'mutation',
    column: 'post',
    document: CreatePatientDocument,
    variables: () => ({ input: { firstName: 'Created', lastName: `ByMatrix${crypto.randomBytes(3).toString('hex')}` } }),
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
        const variables = spec.variables(f);
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
          if (spec.kind === 'mutation' && field !== 'Mutation.createPatient') expect(await version(f.patientId)).toBe(before + 1);
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
            for (const [key, inner] of Object.entries(payload)) if (key !== 'userErrors') expect(inner).toBeNull();
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
      }
      // A refusal reads the same on both transports.
      if (refusals.http || refusals.ws) expect({ field, ws: refusals.ws }).toEqual({ field, ws: refusals.http });
    }
  });
});
