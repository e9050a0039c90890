/**
 * The cost model against what execution really does, in both directions: the screens a frontend builds are answered
 * with room to spare, and queries that multiply the answer (nesting lines inside lines through back-edges, pages
 * inside pages) are refused before anything executes, over HTTP and WebSocket, while /healthz keeps answering.
 */
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Caller, TestServer, startTestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { QUERY_LIMITS, operationCost } from '../../src/graphql/limits';
import { buildAppSchema } from '../../src/schema';

type Data = Record<string, any>;
const doc = (query: string) => parse(query) as TypedDocumentNode<Data, Record<string, unknown>>;

let server: TestServer;
let manager: Caller;
let viewer: Caller;
let patientId: string;
let chargeId: string;
let schema: Awaited<ReturnType<typeof buildAppSchema>>;

const LINE = 'id kind origin status amountCents paidCents writtenOffCents openCents reasonCode createdAt canWriteOff { allowed code message } canCancel { allowed code message }';
const WRITE_OFF = 'id amountCents activeCents reason customReason note createdAt createdBy canRemove { allowed code message }';

/** The screens of a billing frontend, each as it would really be written. */
const SCREENS: Record<string, () => { query: string; variables?: Record<string, unknown> }> = {
  'README: patients with what they owe': () => ({
    query: '{ patients(first: 20) { edges { node { id firstName lastName balance { outstandingCents creditCents version } } } } }',
  }),
  "README: Avery's PR lines with canWriteOff": () => ({
    query:
      '{ patients(search: "Avery") { edges { node { charges { edges { node { responsibilities { id kind origin amountCents openCents canWriteOff { allowed code message } } } } } } } } }',
  }),
  'patient list page: 20 patients with their charges and lines': () => ({
    query: `{ patients(first: 20) { pageInfo { hasNextPage endCursor } edges { cursor node { id firstName lastName mrn
      balance { patientId outstandingCents creditCents version updatedAt }
      charges(first: 20) { edges { node { id serviceDate procedureCode billedCents openCents responsibilities { ${LINE} } } } } } } } }`,
  }),
  'patient screen: 50 charges, lines, write-offs and every can* field': () => ({
    query: `query($id: ID!) { patient(id: $id) { id firstName lastName dateOfBirth mrn
      balance { patientId outstandingCents responsibilityCents paidCents writtenOffCents creditCents version updatedAt }
      charges(first: 50) { pageInfo { hasNextPage endCursor } edges { cursor node { id serviceDate procedureCode description billedCents openCents createdAt
        responsibilities { ${LINE} writeOffs { ${WRITE_OFF} } } } } } } }`,
    variables: { id: patientId },
  }),
  'payments screen: payments with allocations, refunds and canRefund': () => ({
    query: `query($id: ID!) { patient(id: $id) { payments(first: 50) { edges { node { id amountCents refundedCents allocatedCents unallocatedCents method purpose receivedAt
      allocations { amountCents responsibility { id kind openCents } } refunds { id amountCents method reason createdAt } canRefund { allowed code message } } } } } }`,
    variables: { id: patientId },
  }),
  'charge timeline': () => ({
    query: `query($id: ID!) { charge(id: $id) { id patient { id firstName lastName } responsibilities { ${LINE} }
      timeline { id occurredAt kind amountCents responsibilityId actorId reason } } }`,
    variables: { id: chargeId },
  }),
  'audit page': () => ({
    query: `{ auditTrail(first: 100) { pageInfo { hasNextPage endCursor } edges { cursor node { id occurredAt operation outcome code patientId entityIds actor { id role } requestId } } } }`,
  }),
  'write-off payload refetching its line, charge and patient': () => ({
    query: `query($id: ID!) { charge(id: $id) { responsibilities { writeOffs { ${WRITE_OFF} responsibility { ${LINE} charge { id openCents patient { id balance { outstandingCents version } } } } } } } }`,
    variables: { id: chargeId },
  }),
};

/** Ten aliases of a charge's lines, each line's charge, its lines again, … (the probe that exhausted memory). */
function amplification(levels: number, aliases = 10): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `responsibilities { id charge { ${inner} } }`;
  return `query($id: ID!) { ${Array.from({ length: aliases }, (_, i) => `a${i}: charge(id: $id) { ${inner} }`).join(' ')} }`;
}

/** Nesting that never repeats a field: payments → allocations → line → charge → patient → charges (pages inside lines inside pages). */
const DISTINCT_PATH_FAN_OUT = `query($id: ID!) { patient(id: $id) { payments(first: 100) { edges { node { allocations { responsibility { writeOffs { id }
  charge { patient { charges(first: 100) { edges { node { id } } } } } } } } } } } }`;

beforeAll(async () => {
  server = await startTestServer();
  schema = await buildAppSchema();
  manager = await server.caller('BILLING_MANAGER');
  viewer = await server.caller('VIEWER');
  patientId = await newPatient(server, manager, 'Avery', 'Open');
  // A charge with ten PR lines (what the probe used), each with a write-off.
  const ten = await newCharge(server, manager, patientId, Array.from({ length: 10 }, () => 1_000), 100_000);
  chargeId = ten.chargeId;
  for (const lineId of ten.lineIds) {
    await server.ok(manager, doc('mutation($i: WriteOffInput!) { writeOff(input: $i) { userErrors { code } } }'), {
      i: { responsibilityId: lineId, amountCents: 100, reason: 'SMALL_BALANCE' },
    });
  }
  // And a full patient screen: 50 charges with three lines each, and a payment spread over some lines.
  for (let i = 0; i < 49; i++) await newCharge(server, manager, patientId, [2_000, 1_500, 500], 10_000);
  const payment = await server.ok(manager, doc('mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { payment { id } userErrors { code } } }'), {
    i: { patientId, amountCents: 5_000, method: 'CARD', allocations: ten.lineIds.slice(0, 5).map((responsibilityId) => ({ responsibilityId, amountCents: 900 })) },
  });
  await server.ok(manager, doc('mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { userErrors { code } } }'), {
    i: { paymentId: payment.recordPayment.payment.id, amountCents: 100, method: 'ORIGINAL_CARD', reason: 'Overcharged' },
  });
}, 120_000);
afterAll(() => server.stop());
const costs: Record<string, number> = {};
afterAll(() => process.stdout.write(`estimated costs (limit ${QUERY_LIMITS.maxCost}): ${JSON.stringify(costs)}\n`));

describe('the screens a frontend builds are answered, with room to spare', () => {
  test.each(Object.keys(SCREENS))('%s', async (name) => {
    const { query, variables } = SCREENS[name]();
    const cost = operationCost(schema, parse(query));
    costs[name] = cost;
    expect(cost).toBeLessThanOrEqual(QUERY_LIMITS.maxCost / 2);
    const answer = await server.gql(manager, doc(query), variables);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toBeTruthy();
  });

  test('the patient screen really returns its 50 charges with every line and write-off', async () => {
    const { query, variables } = SCREENS['patient screen: 50 charges, lines, write-offs and every can* field']();
    const data = await server.ok(manager, doc(query), variables);
    const charges = data.patient.charges.edges;
    expect(charges).toHaveLength(50);
    expect(charges.flatMap((e: Data) => e.node.responsibilities)).toHaveLength(10 + 49 * 3);
    expect(charges.flatMap((e: Data) => e.node.responsibilities.flatMap((l: Data) => l.writeOffs))).toHaveLength(10);
  });
});

describe('queries that multiply the answer are refused before execution', () => {
  /** Sends a query over HTTP and times the answer, while checking that /healthz still answers meanwhile. */
  async function refusedQuickly(query: string, caller = viewer) {
    const started = Date.now();
    const [answer, health] = await Promise.all([
      server.gql(caller, doc(query), { id: chargeId }),
      fetch(server.url.replace('/graphql', '/healthz')).then((r) => r.status),
    ]);
    const elapsed = Date.now() - started;
    expect(health).toBe(200);
    expect(elapsed).toBeLessThan(1000);
    expect(answer.data ?? null).toBeNull();
    return answer.errors!.map((e) => [e.extensions?.code, e.message]);
  }

  test('the probe: ten aliases of lines → charge → lines → … (VIEWER, about 2 KB)', async () => {
    const query = amplification(6);
    expect(Buffer.byteLength(query)).toBeLessThan(2_500);
    const errors = await refusedQuickly(query);
    expect(errors).toEqual([['GRAPHQL_VALIDATION_FAILED', 'The query goes through Charge.responsibilities again inside itself: select it once and reuse what it returned.']]);
  });

  test.each([
    ['deeper', amplification(9, 1)],
    ['shallower but still re-entering', amplification(2, 15)],
    ['more aliases', amplification(6, 16)],
  ])('variant: %s', async (_name, query) => {
    const codes = (await refusedQuickly(query)).map(([code]) => code);
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
  });

  test('variant: wider, through distinct back-edges (pages inside lines inside pages)', async () => {
    const cost = operationCost(schema, parse(DISTINCT_PATH_FAN_OUT));
    expect(cost).toBeGreaterThan(QUERY_LIMITS.maxCost);
    const [[code, message]] = await refusedQuickly(DISTINCT_PATH_FAN_OUT);
    expect(code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(message).toMatch(/asks for too much at once \(cost \d+, limit 1000000\)/);
  });

  test('twenty probes at once: every one refused, and /healthz answers within a second throughout', async () => {
    const probes = Array.from({ length: 20 }, () => server.gql(viewer, doc(amplification(6)), { id: chargeId }));
    const started = Date.now();
    const health = await fetch(server.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const answer of await Promise.all(probes)) expect(answer.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('over WebSocket, the same probe is refused the same way', async () => {
    const client = server.ws(viewer);
    try {
      const started = Date.now();
      const errors = await new Promise<{ extensions?: { code?: string }; message: string }[]>((resolve, reject) => {
        client.subscribe(
          { query: amplification(6), variables: { id: chargeId } },
          { next: (value) => resolve((value.errors ?? []) as never), error: (e) => resolve(e as never), complete: () => reject(new Error('completed without an answer')) },
        );
      });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(errors.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    } finally {
      await client.dispose();
    }
  });

  test('every list of the schema declares the bound the server enforces (or is a page with `first`)', () => {
    const unbounded: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || !('getFields' in type) || type.name.endsWith('Connection')) continue;
      for (const field of Object.values((type as import('graphql').GraphQLObjectType).getFields())) {
        const isList = String(field.type).replace(/!$/, '').startsWith('[');
        const bounded = Number.isFinite(Number(field.extensions?.maxItems)) || ('args' in field && field.args.some((a) => a.name === 'first'));
        if (isList && !bounded) unbounded.push(`${type.name}.${field.name}`);
      }
    }
    expect(unbounded).toEqual([]);
  });
});
