/**
 * A response never hides a commit: a document's authorisation and rate-limit outcomes are decided before any of its
 * mutations runs, so either every mutation it commits is reported in `data`, or nothing commits. Over HTTP and
 * WebSocket alike.
 */
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Caller, TestServer, startTestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';

type Data = Record<string, any>;
const doc = (query: string) => parse(query) as TypedDocumentNode<Data, Record<string, unknown>>;

const PAY = (alias: string, key = '') =>
  `${alias}: recordPayment(input: { patientId: $patient, amountCents: 100, method: CASH${key ? `, idempotencyKey: "${key}"` : ''} }) { payment { id } userErrors { code } }`;
const REFUND = 'c: refundPayment(input: { paymentId: $payment, method: EXTERNAL_CASH_OR_CARD, reason: "Returned" }) { refund { id } userErrors { code } }';
const BALANCE = doc('query($id: ID!) { patient(id: $id) { balance { version creditCents } payments(first: 100) { edges { node { id } } } } }');

let server: TestServer;
let admin: Caller;
let desk: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: { MUTATION_RATE_LIMIT: '2' } });
  admin = await server.caller('ADMIN', server.practice, 'setup');
  desk = await server.caller('FRONT_DESK', server.practice, 'desk');
});
afterAll(() => server.stop());

async function ledgerOf(patientId: string) {
  const data = await server.ok(admin, BALANCE, { id: patientId });
  return { version: data.patient.balance.version as number, payments: data.patient.payments.edges.length as number };
}

async function aPatientWithAPayment() {
  const patient = await newPatient(server, admin);
  const pay = await server.ok(admin, doc(`mutation($patient: ID!) { ${PAY('p')} }`), { patient });
  return { patient, payment: pay.p.payment.id as string };
}

test('FRONT_DESK: two payments and a refund in one document → FORBIDDEN for the whole document, nothing committed', async () => {
  const { patient, payment } = await aPatientWithAPayment();
  const before = await ledgerOf(patient);
  const answer = await server.gql(desk, doc(`mutation($patient: ID!, $payment: ID!) { ${PAY('a')} ${PAY('b')} ${REFUND} }`), { patient, payment });
  expect(answer.status).toBe(200);
  expect(answer.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', "You don't have permission to do this."]]);
  expect(answer.data ?? null).toBeNull();
  expect(await ledgerOf(patient)).toEqual(before);
  // The forbidden attempt is in the audit trail, with its code.
  await server.instances[0].services.audit.flush();
  const [row] = await server.instances[0].services.db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM audit_events WHERE practice_id = ? AND actor_id = 'desk' AND operation = 'refundPayment' AND outcome = 'REFUSED' AND code = 'FORBIDDEN'",
    [server.practice],
  );
  expect(Number(row.n)).toBe(1);
});

test('the same document over WebSocket: FORBIDDEN whole, nothing committed', async () => {
  const { patient, payment } = await aPatientWithAPayment();
  const before = await ledgerOf(patient);
  const client = server.ws(desk);
  try {
    const result = await new Promise<any>((resolve) => {
      client.subscribe(
        { query: `mutation($patient: ID!, $payment: ID!) { ${PAY('a')} ${PAY('b')} ${REFUND} }`, variables: { patient, payment } },
        { next: resolve, error: resolve, complete: () => undefined },
      );
    });
    const errors = Array.isArray(result) ? result : result.errors;
    expect(errors.map((e: Data) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(result.data ?? null).toBeNull();
  } finally {
    await client.dispose();
  }
  expect(await ledgerOf(patient)).toEqual(before);
});

test('a document with more mutations than the caller has tokens is RATE_LIMITED whole; one that fits runs whole', async () => {
  const patient = await newPatient(server, admin);
  const greedy = await server.caller('FRONT_DESK', server.practice, 'greedy');
  // The bucket holds 2/s × 5 s = 10 tokens: twelve mutations cannot fit, and none of them runs.
  const twelve = Array.from({ length: 12 }, (_, i) => PAY(`p${i}`)).join(' ');
  const before = await ledgerOf(patient);
  const refused = await server.gql(greedy, doc(`mutation($patient: ID!) { ${twelve} }`), { patient });
  expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
  expect(refused.errors?.[0].extensions?.retryAfterMs).toEqual(expect.any(Number));
  expect(refused.errors?.[0].message).toMatch(/^Too many changes too quickly: at most 2 per second\. Try again in \d+ ms\.$/);
  expect(refused.data ?? null).toBeNull();
  expect(await ledgerOf(patient)).toEqual(before);
  // Three fit: all three commit, and all three are in `data`.
  const three = await server.ok(greedy, doc(`mutation($patient: ID!) { ${PAY('a')} ${PAY('b')} ${PAY('c')} }`), { patient });
  expect([three.a, three.b, three.c].every((p) => p.payment?.id)).toBe(true);
  expect(await ledgerOf(patient)).toEqual({ version: before.version + 3, payments: before.payments + 3 });
});

test('under a burst of three-payment documents, every committed payment is reported, and only those', async () => {
  const patient = await newPatient(server, admin);
  const burst = await server.caller('FRONT_DESK', server.practice, 'burst');
  const three = doc(`mutation($patient: ID!) { ${PAY('a')} ${PAY('b')} ${PAY('c')} }`);
  const answers = await Promise.all(Array.from({ length: 12 }, () => server.gql(burst, three, { patient })));
  const reported = answers.flatMap((a) => (a.data ? [a.data.a, a.data.b, a.data.c] : [])).filter((p) => p?.payment?.id);
  const refused = answers.filter((a) => a.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
  expect(reported.length).toBe(9); // 10 tokens: three documents of three fit, the fourth does not
  expect(refused.length).toBe(9);
  expect((await ledgerOf(patient)).payments).toBe(reported.length);
});

test('a refused document can be retried once tokens are back, and then commits once', async () => {
  const patient = await newPatient(server, admin);
  const retrier = await server.caller('FRONT_DESK', server.practice, 'retrier');
  const { lineIds } = await newCharge(server, admin, patient, [5_000, 5_000]);
  const two = doc(`mutation($first: ID!, $second: ID!) {
    a: writeOff(input: { responsibilityId: $first, amountCents: 100, reason: SMALL_BALANCE }) { userErrors { code } }
    b: writeOff(input: { responsibilityId: $second, amountCents: 100, reason: SMALL_BALANCE }) { userErrors { code } }
  }`);
  const lines = { first: lineIds[0], second: lineIds[1] };
  for (let i = 0; i < 5; i++) await server.ok(retrier, two, lines); // uses the 10 tokens
  const refused = await server.gql(retrier, two, lines);
  expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const retried = await server.ok(retrier, two, lines);
  expect([retried.a.userErrors, retried.b.userErrors]).toEqual([[], []]);
});
