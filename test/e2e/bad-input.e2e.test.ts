/**
 * Bad input over real HTTP: every kind of wrong amount, id, text, enum, body and token gets a clear refusal, the
 * patient's balance version does not move, the server keeps answering, and no response body leaks internals
 * (stack traces, file paths, SQL, driver errors).
 */
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { SignJWT } from 'jose';
import {
  BalanceDocument,
  CancelPrDocument,
  CreateChargeDocument,
  CreatePatientDocument,
  PatientsDocument,
  RecordPaymentDocument,
  RecordRemittanceDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  WriteOffDocument,
  WriteOffReasonsDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, TEST_SECRET } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { signToken } from '../../src/auth/tokens';

let server: TestServer;
let manager: Caller;
let otherManager: Caller;
/** A patient with a charge, two STAFF lines, a write-off and a payment: the target of every bad request. */
let patientId: string;
let chargeId: string;
let lineId: string;
let spareLineId: string;
let writeOffId: string;
let paymentId: string;
/** Practice B's rows, to be addressed by practice A. */
let theirs: { patientId: string; chargeId: string; lineId: string; writeOffId: string; paymentId: string };

/** Every response body this file received, checked as it arrives and once more at the end. */
const bodies: string[] = [];

const LEAKS: [string, RegExp][] = [
  ['stack frame', /\n\s+at [\w.<>]+ \(|\bat [\w.]+ \([^)]*:\d+:\d+\)/],
  ['stacktrace', /stacktrace/i],
  ['file path', /\/work\//],
  ['node_modules', /node_modules/],
  ['TypeScript source', /\.ts:\d*/],
  ['SQLite', /SQLITE/i],
  ['TypeORM', /QueryFailedError|EntityNotFound|TypeORM/i],
  ['SQL', /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE \w+ =)\s/],
];

function expectNoLeak(text: string) {
  for (const [what, pattern] of LEAKS) {
    if (pattern.test(text)) throw new Error(`response body leaks ${what}: ${text.slice(0, 500)}`);
  }
}

interface Raw {
  status: number;
  text: string;
  json: {
    data?: Record<string, any> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  } | null;
}

async function post(body: string, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  bodies.push(text);
  expectNoLeak(text);
  let json: Raw['json'] = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, text, json };
}

const bearer = (token: string | null): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token}` });

/** Sends a typed operation, but variables are loose: bad input is the point. */
function send<R, V>(caller: Caller | string | null, document: TypedDocumentNode<R, V>, variables: unknown): Promise<Raw> {
  const token = caller === null ? null : typeof caller === 'string' ? caller : caller.token;
  return post(JSON.stringify({ query: print(document), variables }), bearer(token));
}

async function version(id = patientId, who: Caller = manager): Promise<number> {
  const r = await send(who, BalanceDocument, { id });
  expect(r.status).toBe(200);
  return r.json!.data!.patient.balance.version;
}

/** The server still answers a plain query correctly. */
async function stillAnswering() {
  const r = await send(manager, WriteOffReasonsDocument, {});
  expect(r.status).toBe(200);
  expect(r.json!.data!.writeOffReasons).toHaveLength(11);
}

/** Runs bad requests, then checks the patient's (and practice B's patient's) version did not move and the server answers. */
async function unchanged(run: () => Promise<void>) {
  const before = [await version(), await version(theirs.patientId, otherManager)];
  await run();
  expect([await version(), await version(theirs.patientId, otherManager)]).toEqual(before);
  await stillAnswering();
}

/** A payload refused with exactly one userError of this code (and field when given). */
function expectUserError(r: Raw, mutation: string, code: string, field?: string[]) {
  expect(r.status).toBe(200);
  expect(r.json!.errors).toBeUndefined();
  const payload = r.json!.data![mutation];
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0].code).toBe(code);
  expect(payload.userErrors[0].message.length).toBeGreaterThan(10);
  if (field) expect(payload.userErrors[0].field).toEqual(field);
  if ('balance' in payload) expect(payload.balance).toBeNull();
}

/** A request GraphQL itself rejects: HTTP 400, no data, the given error code. */
function expectRequestError(r: Raw, code: string, status = 400) {
  expect(r.status).toBe(status);
  expect(r.json).not.toBeNull();
  expect(r.json!.data ?? null).toBeNull();
  expect(r.json!.errors!.length).toBeGreaterThan(0);
  expect(r.json!.errors![0].extensions?.code).toBe(code);
  expect(r.json!.errors![0].message.length).toBeGreaterThan(5);
}

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER');
  otherManager = await server.caller('BILLING_MANAGER', `${server.practice}-b`);
  patientId = await newPatient(server, manager);
  const charge = await newCharge(server, manager, patientId, [10_000, 5000], 50_000);
  chargeId = charge.chargeId;
  [lineId, spareLineId] = charge.lineIds;
  writeOffId = (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineId, amountCents: 2000, reason: 'SMALL_BALANCE' } })).writeOff.writeOff!.id;
  paymentId = (await server.ok(manager, RecordPaymentDocument, {
    input: { patientId, amountCents: 4000, method: 'CARD', allocations: [{ responsibilityId: lineId, amountCents: 3000 }] },
  })).recordPayment.payment!.id;

  const theirPatient = await newPatient(server, otherManager);
  const theirCharge = await newCharge(server, otherManager, theirPatient, [10_000]);
  theirs = {
    patientId: theirPatient,
    chargeId: theirCharge.chargeId,
    lineId: theirCharge.lineIds[0],
    writeOffId: (await server.ok(otherManager, WriteOffDocument, { input: { responsibilityId: theirCharge.lineIds[0], amountCents: 1000, reason: 'BAD_DEBT' } })).writeOff.writeOff!.id,
    paymentId: (await server.ok(otherManager, RecordPaymentDocument, { input: { patientId: theirPatient, amountCents: 500, method: 'CASH' } })).recordPayment.payment!.id,
  };
});
afterAll(() => server.stop());

// Builders of each mutation's variables with one field swapped in.
const writeOffVars = (over: Record<string, unknown> = {}) => ({ input: { responsibilityId: lineId, amountCents: 100, reason: 'SMALL_BALANCE', ...over } });
const paymentVars = (over: Record<string, unknown> = {}) => ({ input: { patientId, amountCents: 100, method: 'CASH', ...over } });
const refundVars = (over: Record<string, unknown> = {}) => ({ input: { paymentId, amountCents: 100, method: 'ORIGINAL_CARD', reason: 'Asked', ...over } });
const removeVars = (over: Record<string, unknown> = {}) => ({ input: { writeOffId, amountCents: 100, reason: 'Collectable', ...over } });
const cancelVars = (over: Record<string, unknown> = {}) => ({ input: { responsibilityId: spareLineId, reason: 'Mistake', ...over } });
const chargeVars = (over: Record<string, unknown> = {}) => ({ input: { patientId, serviceDate: '2026-10-01', procedureCode: '99213', billedCents: 1000, responsibilities: [], ...over } });
const remitVars = (over: Record<string, unknown> = {}, adjustment: Record<string, unknown> = {}) => ({
  input: { chargeId, remittanceId: 'ERA-BAD', adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 100, ...adjustment }], ...over },
});

describe('amounts', () => {
  test('zero and negative amounts: INVALID_AMOUNT on every mutation that takes one', async () => {
    await unchanged(async () => {
      for (const amount of [0, -1, -2_147_483_648]) {
        expectUserError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: amount })), 'writeOff', 'INVALID_AMOUNT', ['input', 'amountCents']);
        expectUserError(await send(manager, RecordPaymentDocument, paymentVars({ amountCents: amount })), 'recordPayment', 'INVALID_AMOUNT', ['input', 'amountCents']);
        expectUserError(
          await send(manager, RecordPaymentDocument, paymentVars({ amountCents: 500, allocations: [{ responsibilityId: spareLineId, amountCents: amount }] })),
          'recordPayment',
          'INVALID_AMOUNT',
          ['input', 'allocations', '0', 'amountCents'],
        );
        expectUserError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: amount })), 'refundPayment', 'INVALID_AMOUNT', ['input', 'amountCents']);
        expectUserError(await send(manager, RemoveWriteOffDocument, removeVars({ amountCents: amount })), 'removeWriteOff', 'INVALID_AMOUNT', ['input', 'amountCents']);
        expectUserError(await send(manager, CreateChargeDocument, chargeVars({ billedCents: amount })), 'createCharge', 'INVALID_AMOUNT', ['input', 'billedCents']);
        expectUserError(
          await send(manager, CreateChargeDocument, chargeVars({ responsibilities: [{ kind: 'COPAY', amountCents: amount }] })),
          'createCharge',
          'INVALID_AMOUNT',
          ['input', 'responsibilities', '0', 'amountCents'],
        );
        expectUserError(await send(manager, RecordRemittanceDocument, remitVars({}, { amountCents: amount })), 'recordRemittance', 'INVALID_AMOUNT', ['input', 'adjustments', '0', 'amountCents']);
      }
    });
  });

  test('fractional amounts: a GraphQL validation error, HTTP 400, BAD_USER_INPUT', async () => {
    await unchanged(async () => {
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: 10.5 })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RecordPaymentDocument, paymentVars({ amountCents: 0.01 })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RecordPaymentDocument, paymentVars({ allocations: [{ responsibilityId: spareLineId, amountCents: 1.5 }] })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: 99.99 })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RemoveWriteOffDocument, removeVars({ amountCents: 0.5 })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, CreateChargeDocument, chargeVars({ billedCents: 1000.25 })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RecordRemittanceDocument, remitVars({}, { amountCents: 12.34 })), 'BAD_USER_INPUT');
      // Numbers as strings are not numbers.
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: '100' })), 'BAD_USER_INPUT');
      // Written into the document itself, the same mistake fails validation.
      const inline = await post(
        JSON.stringify({ query: `mutation { writeOff(input: { responsibilityId: "${lineId}", amountCents: 10.5, reason: SMALL_BALANCE }) { userErrors { code } } }` }),
        bearer(manager.token),
      );
      expectRequestError(inline, 'GRAPHQL_VALIDATION_FAILED');
    });
  });

  test('out-of-range amounts (2^31 and beyond): HTTP 400, BAD_USER_INPUT; the largest Int is judged by the rules', async () => {
    await unchanged(async () => {
      for (const amount of [2 ** 31, 2 ** 32 + 5, 1e20, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER]) {
        expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: amount })), 'BAD_USER_INPUT');
        expectRequestError(await send(manager, RecordPaymentDocument, paymentVars({ amountCents: amount })), 'BAD_USER_INPUT');
        expectRequestError(await send(manager, CreateChargeDocument, chargeVars({ billedCents: amount })), 'BAD_USER_INPUT');
        expectRequestError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: amount })), 'BAD_USER_INPUT');
      }
      // 2^31 − 1 is a valid Int, so the ledger rules answer.
      const max = 2 ** 31 - 1;
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: max })), 'writeOff', 'WRITE_OFF_EXCEEDS_OPEN', ['input', 'amountCents']);
      expectUserError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: max })), 'refundPayment', 'REFUND_EXCEEDS_REFUNDABLE', ['input', 'amountCents']);
      expectUserError(await send(manager, RemoveWriteOffDocument, removeVars({ amountCents: max })), 'removeWriteOff', 'REMOVAL_EXCEEDS_ACTIVE', ['input', 'amountCents']);
      expectUserError(
        await send(manager, RecordPaymentDocument, paymentVars({ amountCents: max, allocations: [{ responsibilityId: spareLineId, amountCents: max }] })),
        'recordPayment',
        'ALLOCATION_EXCEEDS_OPEN',
        ['input', 'allocations', '0', 'amountCents'],
      );
      expectUserError(await send(manager, CreateChargeDocument, chargeVars({ responsibilities: [{ kind: 'COPAY', amountCents: max }] })), 'createCharge', 'PR_EXCEEDS_CHARGE');
    });
  });

  test('amounts over what is open or refundable', async () => {
    await unchanged(async () => {
      // Line: $100 − $30 paid − $20 written off = $50 open. Payment: $40, $30 of it allocated.
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ amountCents: 5001 })), 'writeOff', 'WRITE_OFF_EXCEEDS_OPEN', ['input', 'amountCents']);
      expectUserError(
        await send(manager, RecordPaymentDocument, paymentVars({ amountCents: 10_000, allocations: [{ responsibilityId: lineId, amountCents: 5001 }] })),
        'recordPayment',
        'ALLOCATION_EXCEEDS_OPEN',
      );
      expectUserError(
        await send(manager, RecordPaymentDocument, paymentVars({ amountCents: 100, allocations: [{ responsibilityId: lineId, amountCents: 101 }] })),
        'recordPayment',
        'ALLOCATIONS_EXCEED_PAYMENT',
        ['input', 'allocations'],
      );
      expectUserError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: 4001 })), 'refundPayment', 'REFUND_EXCEEDS_REFUNDABLE', ['input', 'amountCents']);
      expectUserError(await send(manager, RefundPaymentDocument, refundVars({ amountCents: 3001, method: 'ACCOUNT_CREDIT' })), 'refundPayment', 'REFUND_EXCEEDS_REFUNDABLE');
      expectUserError(await send(manager, RemoveWriteOffDocument, removeVars({ amountCents: 2001 })), 'removeWriteOff', 'REMOVAL_EXCEEDS_ACTIVE', ['input', 'amountCents']);
    });
  });
});

describe('ids', () => {
  test('unknown ids, odd-looking ids and another practice ids: NOT_FOUND, answered alike', async () => {
    const odd = ['00000000-0000-4000-8000-000000000000', 'nope', '', ' ', "' OR '1'='1", '1; DROP TABLE patients; --', '../../etc/passwd', 'x'.repeat(5000), '%', '\u0000'];
    await unchanged(async () => {
      const cases: { mutation: string; field: string[]; run: (id: string) => Promise<Raw>; their: string }[] = [
        { mutation: 'writeOff', field: ['input', 'responsibilityId'], run: (id) => send(manager, WriteOffDocument, writeOffVars({ responsibilityId: id })), their: theirs.lineId },
        { mutation: 'cancelPR', field: ['input', 'responsibilityId'], run: (id) => send(manager, CancelPrDocument, cancelVars({ responsibilityId: id })), their: theirs.lineId },
        { mutation: 'removeWriteOff', field: ['input', 'writeOffId'], run: (id) => send(manager, RemoveWriteOffDocument, removeVars({ writeOffId: id })), their: theirs.writeOffId },
        { mutation: 'refundPayment', field: ['input', 'paymentId'], run: (id) => send(manager, RefundPaymentDocument, refundVars({ paymentId: id })), their: theirs.paymentId },
        { mutation: 'recordPayment', field: ['input', 'patientId'], run: (id) => send(manager, RecordPaymentDocument, paymentVars({ patientId: id })), their: theirs.patientId },
        { mutation: 'createCharge', field: ['input', 'patientId'], run: (id) => send(manager, CreateChargeDocument, chargeVars({ patientId: id })), their: theirs.patientId },
        { mutation: 'recordRemittance', field: ['input', 'chargeId'], run: (id) => send(manager, RecordRemittanceDocument, remitVars({ chargeId: id })), their: theirs.chargeId },
        {
          mutation: 'recordPayment',
          field: ['input', 'allocations', '0', 'responsibilityId'],
          run: (id) => send(manager, RecordPaymentDocument, paymentVars({ allocations: [{ responsibilityId: id, amountCents: 100 }] })),
          their: theirs.lineId,
        },
      ];
      for (const c of cases) {
        const answers: unknown[] = [];
        for (const id of [...odd, c.their]) {
          const r = await c.run(id);
          expectUserError(r, c.mutation, 'NOT_FOUND', c.field);
          answers.push(r.json!.data![c.mutation].userErrors);
        }
        // Every one of them, another practice's real id included, gets the very same answer.
        for (const a of answers) expect(a).toEqual(answers[0]);
      }
    });
    // Reads of those ids are null, not errors.
    for (const id of [...odd.slice(0, 6), theirs.patientId]) {
      const r = await send(manager, BalanceDocument, { id });
      expect(r.status).toBe(200);
      expect(r.json!.errors).toBeUndefined();
      expect(r.json!.data!.patient).toBeNull();
    }
  });
});

describe('free text', () => {
  test('missing or null required reasons: HTTP 400, BAD_USER_INPUT', async () => {
    await unchanged(async () => {
      const { reason: _r1, ...noReason } = cancelVars().input;
      expectRequestError(await send(manager, CancelPrDocument, { input: noReason }), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, CancelPrDocument, cancelVars({ reason: null })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RefundPaymentDocument, refundVars({ reason: null })), 'BAD_USER_INPUT');
      const { reason: _r2, ...removeNoReason } = removeVars().input;
      expectRequestError(await send(manager, RemoveWriteOffDocument, { input: removeNoReason }), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ reason: null })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, CancelPrDocument, {}), 'BAD_USER_INPUT');
      expect(_r1).toBeDefined();
      expect(_r2).toBeDefined();
    });
  });

  test('blank, over-long and control-character reasons, custom reasons and notes: INVALID_TEXT', async () => {
    await unchanged(async () => {
      const bad = ['', '   ', '\t\n ', 'r'.repeat(256), ' ' + 'r'.repeat(256) + ' ', 'bell\u0007', 'nul\u0000byte', 'esc\u001b[31m', 'del\u007f', 'c1\u0085', 'two\nlines'];
      for (const reason of bad) {
        expectUserError(await send(manager, CancelPrDocument, cancelVars({ reason })), 'cancelPR', 'INVALID_TEXT', ['input', 'reason']);
        expectUserError(await send(manager, RefundPaymentDocument, refundVars({ reason })), 'refundPayment', 'INVALID_TEXT', ['input', 'reason']);
        expectUserError(await send(manager, RemoveWriteOffDocument, removeVars({ reason })), 'removeWriteOff', 'INVALID_TEXT', ['input', 'reason']);
      }
      for (const customReason of ['c'.repeat(256), 'tab\there', 'x\u0001']) {
        expectUserError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'OTHER', customReason })), 'writeOff', 'INVALID_TEXT', ['input', 'customReason']);
      }
      for (const note of ['n'.repeat(1001), 'bell\u0007', 'line\n'.repeat(200) + 'x'.repeat(2)]) {
        expectUserError(await send(manager, WriteOffDocument, writeOffVars({ note })), 'writeOff', 'INVALID_TEXT', ['input', 'note']);
      }
      expectUserError(await send(manager, CreatePatientDocument, { input: { firstName: 'f'.repeat(256), lastName: 'Long' } }), 'createPatient', 'INVALID_TEXT', ['input', 'firstName']);
      expectUserError(await send(manager, CreatePatientDocument, { input: { firstName: 'Ok', lastName: '  ' } }), 'createPatient', 'INVALID_TEXT', ['input', 'lastName']);
      expectUserError(await send(manager, RecordRemittanceDocument, remitVars({ remittanceId: '   ' })), 'recordRemittance', 'INVALID_TEXT', ['input', 'remittanceId']);
      expectUserError(await send(manager, CreateChargeDocument, chargeVars({ procedureCode: 'DROP TABLE' })), 'createCharge', 'INVALID_TEXT', ['input', 'procedureCode']);
      // An idempotency key is text too.
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ idempotencyKey: '   ' })), 'writeOff', 'INVALID_TEXT', ['input', 'idempotencyKey']);
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ idempotencyKey: 'k'.repeat(256) })), 'writeOff', 'INVALID_TEXT', ['input', 'idempotencyKey']);
    });
  });

  test('the limits themselves are accepted: 255 characters (also in emoji), a 1,000-character note with line breaks', async () => {
    const before = await version();
    const atLimit = (await send(manager, WriteOffDocument, writeOffVars({ amountCents: 100, reason: 'OTHER', customReason: '😀'.repeat(255), note: ('n'.repeat(99) + '\n').repeat(9) + 'n'.repeat(100) }))).json!.data!.writeOff;
    expect(atLimit.userErrors).toEqual([]);
    expect(atLimit.writeOff.customReason).toBe('😀'.repeat(255));
    expect(atLimit.writeOff.note).toHaveLength(1000);
    const removed = (await send(manager, RemoveWriteOffDocument, { input: { writeOffId: atLimit.writeOff.id, reason: 'r'.repeat(255) } })).json!.data!.removeWriteOff;
    expect(removed.userErrors).toEqual([]);
    expect(await version()).toBe(before + 2);
  });

  test('OTHER without a custom reason, and a custom reason with a standard code', async () => {
    await unchanged(async () => {
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'OTHER' })), 'writeOff', 'CUSTOM_REASON_REQUIRED', ['input', 'customReason']);
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'OTHER', customReason: null })), 'writeOff', 'CUSTOM_REASON_REQUIRED', ['input', 'customReason']);
      expectUserError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'OTHER', customReason: '  ' })), 'writeOff', 'CUSTOM_REASON_REQUIRED', ['input', 'customReason']);
      for (const reason of ['SMALL_BALANCE', 'BILLING_ERROR', 'DECEASED']) {
        expectUserError(await send(manager, WriteOffDocument, writeOffVars({ reason, customReason: 'Because' })), 'writeOff', 'CUSTOM_REASON_NOT_ALLOWED', ['input', 'customReason']);
      }
    });
  });

  test('bad dates and search terms', async () => {
    await unchanged(async () => {
      expectUserError(await send(manager, CreateChargeDocument, chargeVars({ serviceDate: '2026-02-30' })), 'createCharge', 'INVALID_DATE', ['input', 'serviceDate']);
      expectUserError(await send(manager, CreateChargeDocument, chargeVars({ serviceDate: 'yesterday' })), 'createCharge', 'INVALID_DATE', ['input', 'serviceDate']);
      expectUserError(await send(manager, RecordPaymentDocument, paymentVars({ receivedAt: 'not a date' })), 'recordPayment', 'INVALID_DATE', ['input', 'receivedAt']);
      const longSearch = await send(manager, PatientsDocument, { first: 5, search: 's'.repeat(101) });
      expect(longSearch.json!.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
      const injection = await send(manager, PatientsDocument, { first: 5, search: "'; DROP TABLE patients; --" });
      expect(injection.status).toBe(200);
      expect(injection.json!.data!.patients.edges).toEqual([]);
    });
  });
});

describe('enums and request bodies', () => {
  test('unknown enum values: HTTP 400, BAD_USER_INPUT', async () => {
    await unchanged(async () => {
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'NOT_A_REASON' })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ reason: 'small_balance' })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RecordPaymentDocument, paymentVars({ method: 'BITCOIN' })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RecordPaymentDocument, paymentVars({ purpose: 'GIFT' })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, RefundPaymentDocument, refundVars({ method: 'PAYPAL' })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, CreateChargeDocument, chargeVars({ responsibilities: [{ kind: 'TIP', amountCents: 100 }] })), 'BAD_USER_INPUT');
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ reason: 3 })), 'BAD_USER_INPUT');
      // Unknown input fields are refused too.
      expectRequestError(await send(manager, WriteOffDocument, writeOffVars({ patientId })), 'BAD_USER_INPUT');
    });
  });

  test('malformed bodies: clear 4xx answers without internals', async () => {
    await unchanged(async () => {
      const auth = bearer(manager.token);
      for (const body of ['{"query": "{ writeOffReasons { code } }"', 'not json at all', '{"query": "{ x }", }', '\u0000\u0001\u0002']) {
        const r = await post(body, auth);
        expect(r.status).toBe(400);
        expect(r.json!.errors![0].extensions?.code).toBe('BAD_REQUEST');
        expect(r.json!.errors![0].message).toMatch(/JSON/);
      }
      // Well-formed JSON that is not a GraphQL request.
      expect((await post('{}', auth)).status).toBe(400);
      expect((await post('"just a string"', auth)).status).toBe(400);
      expect((await post(JSON.stringify({ query: 42 }), auth)).status).toBe(400);
      expect((await post(JSON.stringify([{ query: '{ writeOffReasons { code } }' }, { query: '{ writeOffReasons { code } }' }]), auth)).status).toBe(400);
      expectRequestError(await post(JSON.stringify({ query: '{ writeOffReasons { code ' }), auth), 'GRAPHQL_PARSE_FAILED');
      expectRequestError(await post(JSON.stringify({ query: '{ noSuchField }' }), auth), 'GRAPHQL_VALIDATION_FAILED');
      expectRequestError(await post(JSON.stringify({ query: print(WriteOffDocument), variables: 'not an object' }), auth), 'BAD_REQUEST');
      // Too large.
      const huge = await post(JSON.stringify({ query: '{ writeOffReasons { code } }', variables: { pad: 'x'.repeat(1_100_000) } }), auth);
      expect(huge.status).toBe(413);
      expect(huge.text.length).toBeLessThan(1000);
    });
  });
});

describe('credentials', () => {
  async function rawToken(claims: Record<string, unknown>, secret = TEST_SECRET, expiresAt: number = Math.floor(Date.now() / 1000) + 600) {
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(secret));
  }

  test('missing, forged, expired, malformed, unknown role, missing practiceId or sub: HTTP 401, UNAUTHENTICATED', async () => {
    const practiceId = server.practice;
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const noneBody = Buffer.from(JSON.stringify({ sub: 'x', practiceId, role: 'ADMIN', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    const valid = manager.token;
    const [header, payload] = valid.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'ADMIN', practiceId: `${practiceId}-b` })).toString('base64url')}.${valid.split('.')[2]}`;
    const tokens: [string, Record<string, string>][] = [
      ['missing', {}],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['not bearer', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['garbage', bearer('abc.def.ghi')],
      ['not a jwt', bearer('hello')],
      ['forged (other secret)', bearer(await signToken('another-secret-that-is-also-long-enough-123', { sub: 'mallory', practiceId, role: 'ADMIN' }))],
      ['tampered claims', bearer(tampered)],
      ['alg none', bearer(`${none}.${noneBody}.`)],
      ['expired', bearer(await signToken(TEST_SECRET, { sub: 'late', practiceId, role: 'ADMIN' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }))],
      ['unknown role', bearer(await rawToken({ sub: 'x', practiceId, role: 'SUPERUSER' }))],
      ['lower-case role', bearer(await rawToken({ sub: 'x', practiceId, role: 'admin' }))],
      ['no role', bearer(await rawToken({ sub: 'x', practiceId }))],
      ['no practiceId', bearer(await rawToken({ sub: 'x', role: 'ADMIN' }))],
      ['practiceId not a string', bearer(await rawToken({ sub: 'x', role: 'ADMIN', practiceId: 42 }))],
      ['no sub', bearer(await rawToken({ practiceId, role: 'ADMIN' }))],
    ];
    await unchanged(async () => {
      for (const [name, headers] of tokens) {
        for (const body of [
          { query: print(WriteOffDocument), variables: writeOffVars({ amountCents: 100 }) },
          { query: print(BalanceDocument), variables: { id: patientId } },
        ]) {
          const r = await post(JSON.stringify(body), headers);
          expect({ name, status: r.status, code: r.json?.errors?.[0]?.extensions?.code }).toEqual({ name, status: 401, code: 'UNAUTHENTICATED' });
          expect(r.json!.data ?? null).toBeNull();
        }
      }
    });
  });

  test('after all of the above the server still answers, and no body leaked internals', async () => {
    await stillAnswering();
    expect(bodies.length).toBeGreaterThan(200);
    for (const text of bodies) expectNoLeak(text);
    // Every refusal was deliberate: nothing fell through to the generic internal-error path.
    expect(bodies.filter((text) => text.includes('INTERNAL_SERVER_ERROR'))).toEqual([]);
    expect(server.logs.filter((line) => /"level":"error"/.test(line))).toEqual([]);
  });

  test('the leak check itself recognises what it looks for', () => {
    const samples = [
      'Error: boom\n    at Object.<anonymous> (/srv/app/x.js:1:2)',
      '{"message":"at /work/main/src/ledger/x.ts:10"}',
      '{"message":"SQLITE_CONSTRAINT: UNIQUE constraint failed"}',
      '{"message":"QueryFailedError: no such table"}',
      '{"message":"SELECT id FROM patients"}',
      '{"stacktrace":["x"]}',
      '/app/node_modules/graphql/index.js',
    ];
    for (const text of samples) expect(() => expectNoLeak(text)).toThrow(/leaks/);
    expect(() => expectNoLeak('{"data":{"writeOff":{"userErrors":[{"code":"NOT_FOUND","message":"No PR line with that id was found."}]}}}')).not.toThrow();
  });
});
