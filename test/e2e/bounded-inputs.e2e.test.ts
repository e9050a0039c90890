/**
 * Every list has a bound the server enforces, over real HTTP: input lists of N are accepted and of N + 1 refused
 * with TOO_MANY_ITEMS (the right field, nothing stored, the balance version unchanged), a huge input is refused
 * before it can hold the database, stored lists stop at their cap, and `Charge.timeline` returns at most `first`.
 */
import { startTestServer, TestServer, Caller } from '../harness';

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER');
});
afterAll(() => server.stop());

interface UserError {
  code: string;
  message: string;
  field: string[] | null;
}
type Payload = { userErrors: UserError[] } & Record<string, unknown>;

const USER_ERRORS = 'userErrors { code message field }';
const MUTATION = {
  createPatient: `mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient { id } ${USER_ERRORS} } }`,
  createCharge: `mutation($input: CreateChargeInput!) { createCharge(input: $input) { charge { id responsibilities { id } } ${USER_ERRORS} } }`,
  recordPayment: `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id allocations { amountCents } } ${USER_ERRORS} } }`,
  recordRemittance: `mutation($input: RecordRemittanceInput!) { recordRemittance(input: $input) { charge { id responsibilities { id } } ${USER_ERRORS} } }`,
  writeOff: `mutation($input: WriteOffInput!) { writeOff(input: $input) { writeOff { id } ${USER_ERRORS} } }`,
  removeWriteOff: `mutation($input: RemoveWriteOffInput!) { removeWriteOff(input: $input) { writeOff { id } ${USER_ERRORS} } }`,
  refundPayment: `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { refund { id } ${USER_ERRORS} } }`,
  cancelPR: `mutation($input: CancelPRInput!) { cancelPR(input: $input) { responsibility { id } ${USER_ERRORS} } }`,
} as const;

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${manager.token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

/** Sends one mutation and returns its payload; GraphQL errors fail the test. */
async function mutate(name: keyof typeof MUTATION, input: Record<string, unknown>): Promise<Payload> {
  const answer = await post(MUTATION[name], { input });
  if (answer.errors?.length || !answer.data) throw new Error(`${name}: ${JSON.stringify(answer.errors)}`);
  return answer.data[name] as Payload;
}

async function accepted(name: keyof typeof MUTATION, input: Record<string, unknown>): Promise<Payload> {
  const payload = await mutate(name, input);
  expect(payload.userErrors).toEqual([]);
  return payload;
}

async function newPatient(): Promise<string> {
  const payload = await accepted('createPatient', { firstName: 'Lena', lastName: `Bounds${Math.random().toString(36).slice(2, 8)}` });
  return (payload.patient as { id: string }).id;
}

/** A charge with `count` STAFF lines of `cents` each; returns its id and its line ids, oldest first. */
async function newCharge(patientId: string, count: number, cents = 100, billedCents = 1_000_000) {
  const payload = await accepted('createCharge', {
    patientId,
    serviceDate: '2026-10-01',
    procedureCode: '99213',
    billedCents,
    responsibilities: Array.from({ length: count }, () => ({ kind: 'CUSTOM', amountCents: cents })),
  });
  const charge = payload.charge as { id: string; responsibilities: { id: string }[] };
  return { chargeId: charge.id, lineIds: charge.responsibilities.map((r) => r.id) };
}

const LEDGER_TABLES = ['charges', 'responsibilities', 'payments', 'allocations', 'allocation_reductions', 'refunds', 'write_offs', 'write_off_reversals', 'remittances', 'idempotency_keys'];

/** The patient's balance version and how many ledger rows the server holds: what a refusal must leave as it was. */
async function stored(patientId: string) {
  const answer = await post('query($id: ID!) { patient(id: $id) { balance { version } } }', { id: patientId });
  const rows: Record<string, number> = {};
  for (const table of LEDGER_TABLES) {
    const [{ n }] = await server.instances[0].services.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`);
    rows[table] = Number(n);
  }
  return { version: (answer.data?.patient as { balance: { version: number } }).balance.version, rows };
}

/** Sends a mutation that must be refused with TOO_MANY_ITEMS at `field`, and checks that it stored nothing. */
async function refusedAsTooMany(name: keyof typeof MUTATION, input: Record<string, unknown>, patientId: string, field: string[], message: string) {
  const before = await stored(patientId);
  const payload = await mutate(name, input);
  expect(payload.userErrors).toEqual([{ code: 'TOO_MANY_ITEMS', message, field }]);
  expect(await stored(patientId)).toEqual(before);
}

const staffLines = (count: number, cents = 1) => Array.from({ length: count }, () => ({ kind: 'COPAY', amountCents: cents }));

describe('input lists: N accepted, N + 1 refused with TOO_MANY_ITEMS and nothing stored', () => {
  it('createCharge.responsibilities: 20 PR lines', async () => {
    const patientId = await newPatient();
    const input = { patientId, serviceDate: '2026-10-02', procedureCode: '99213', billedCents: 10_000, idempotencyKey: `bounded-charge-${patientId}` };
    await refusedAsTooMany('createCharge', { ...input, responsibilities: staffLines(21) }, patientId, ['input', 'responsibilities'], 'A charge can have at most 20 PR lines, cancelled ones included; this one would have 21.');
    // Nothing was kept of the refusal, not even its idempotency key: the same key with 20 lines goes through.
    const payload = await accepted('createCharge', { ...input, responsibilities: staffLines(20) });
    expect((payload.charge as { responsibilities: unknown[] }).responsibilities).toHaveLength(20);
  });

  it('recordPayment.allocations: 50 allocations', async () => {
    const patientId = await newPatient();
    const lineIds = [...(await newCharge(patientId, 20)).lineIds, ...(await newCharge(patientId, 20)).lineIds, ...(await newCharge(patientId, 10)).lineIds];
    const allocations = (count: number) => Array.from({ length: count }, (_, i) => ({ responsibilityId: lineIds[i % lineIds.length], amountCents: 1 }));
    // 51 allocations that would otherwise go through: their number is the only thing wrong.
    await refusedAsTooMany(
      'recordPayment',
      { patientId, amountCents: 100, method: 'CARD', allocations: allocations(51) },
      patientId,
      ['input', 'allocations'],
      'A payment can have at most 50 allocations; this one has 51. Record the rest as another payment.',
    );
    const payload = await accepted('recordPayment', { patientId, amountCents: 100, method: 'CARD', allocations: allocations(50) });
    expect((payload.payment as { allocations: unknown[] }).allocations).toHaveLength(50);
  });

  it('recordRemittance.adjustments: 30 adjustments', async () => {
    const patientId = await newPatient();
    const { chargeId } = await newCharge(patientId, 0);
    const adjustments = (count: number) => [{ groupCode: 'PR', reasonCode: '2', amountCents: 2000 }, ...Array.from({ length: count - 1 }, () => ({ groupCode: 'CO', reasonCode: '45', amountCents: 100 }))];
    const input = { chargeId, remittanceId: 'ERA-BOUNDED-1' };
    await refusedAsTooMany('recordRemittance', { ...input, adjustments: adjustments(31) }, patientId, ['input', 'adjustments'], 'A remittance can have at most 30 adjustments; this one has 31.');
    // The refused remittance was not recorded: the same reference goes through (no DUPLICATE_REMITTANCE).
    const payload = await accepted('recordRemittance', { ...input, adjustments: adjustments(30) });
    expect((payload.charge as { responsibilities: unknown[] }).responsibilities).toHaveLength(1);
  });

  it('a 20,000-line createCharge is refused quickly and leaves later mutations on that patient fast', async () => {
    const patientId = await newPatient();
    const input = { patientId, serviceDate: '2026-10-03', procedureCode: '99213', billedCents: 2_000_000, responsibilities: staffLines(20_000) };
    const before = await stored(patientId);
    const started = performance.now();
    const payload = await mutate('createCharge', input);
    const refusedInMs = performance.now() - started;
    expect(payload.userErrors).toEqual([
      { code: 'TOO_MANY_ITEMS', message: 'A charge can have at most 20 PR lines, cancelled ones included; this one would have 20,000.', field: ['input', 'responsibilities'] },
    ]);
    expect(await stored(patientId)).toEqual(before);

    const next = performance.now();
    await newCharge(patientId, 1);
    const nextInMs = performance.now() - next;
    // Before the bound it committed 20,000 rows, holding the single SQLite writer for seconds.
    expect(refusedInMs).toBeLessThan(750);
    expect(nextInMs).toBeLessThan(750);
  });
});

describe('stored lists: reaching the cap, then one more refused', () => {
  it('PR lines per charge, by an up-front payment: 20, then the 21st refused', async () => {
    const patientId = await newPatient();
    const { chargeId } = await newCharge(patientId, 19);
    await accepted('recordPayment', { patientId, amountCents: 500, method: 'CASH', purpose: 'COPAY', chargeId });
    await refusedAsTooMany(
      'recordPayment',
      { patientId, amountCents: 500, method: 'CASH', purpose: 'SELF_PAY', chargeId },
      patientId,
      ['input', 'chargeId'],
      'A charge can have at most 20 PR lines, cancelled ones included; this one would have 21.',
    );
  });

  it('PR lines per charge, by remittances: cancelled lines count; 20, then one more refused', async () => {
    const patientId = await newPatient();
    const { chargeId, lineIds } = await newCharge(patientId, 18);
    await accepted('cancelPR', { responsibilityId: lineIds[0], reason: 'Entered twice' });
    const remit = (remittanceId: string, prLines: number) => ({
      chargeId,
      remittanceId,
      adjustments: [...Array.from({ length: prLines }, () => ({ groupCode: 'PR', reasonCode: '1', amountCents: 100 })), { groupCode: 'CO', reasonCode: '45', amountCents: 5000 }],
    });
    const payload = await accepted('recordRemittance', remit('ERA-LINES-1', 2));
    expect((payload.charge as { responsibilities: unknown[] }).responsibilities).toHaveLength(20);
    await refusedAsTooMany('recordRemittance', remit('ERA-LINES-2', 1), patientId, ['input', 'adjustments'], 'A charge can have at most 20 PR lines, cancelled ones included; this one would have 21.');
    // A remittance that adds no PR line still goes through.
    await accepted('recordRemittance', remit('ERA-LINES-3', 0));
  });

  it('write-offs per line: 20, removed ones included, then the 21st refused; canWriteOff says so', async () => {
    const patientId = await newPatient();
    const [lineId] = (await newCharge(patientId, 1, 1000)).lineIds;
    const writeOffIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const payload = await accepted('writeOff', { responsibilityId: lineId, amountCents: 1, reason: 'SMALL_BALANCE' });
      writeOffIds.push((payload.writeOff as { id: string }).id);
    }
    await accepted('removeWriteOff', { writeOffId: writeOffIds[0], reason: 'Posted by mistake' });
    const full = 'This PR line already has 20 write-offs, the most one line can hold.';
    await refusedAsTooMany('writeOff', { responsibilityId: lineId, amountCents: 1, reason: 'SMALL_BALANCE' }, patientId, ['input', 'responsibilityId'], full);
    const answer = await post('query($id: ID!) { responsibility(id: $id) { openCents writeOffs { id } canWriteOff { allowed code message } } }', { id: lineId });
    expect(answer.data?.responsibility).toEqual({ openCents: 981, writeOffs: writeOffIds.map((id) => ({ id })), canWriteOff: { allowed: false, code: 'TOO_MANY_ITEMS', message: full } });
  });

  it('refunds per payment: 20, then the 21st refused; canRefund says so', async () => {
    const patientId = await newPatient();
    const payload = await accepted('recordPayment', { patientId, amountCents: 1000, method: 'CARD' });
    const paymentId = (payload.payment as { id: string }).id;
    for (let i = 0; i < 20; i++) await accepted('refundPayment', { paymentId, amountCents: 1, method: 'ORIGINAL_CARD', reason: 'Overcharged' });
    const full = 'This payment already has 20 refunds, the most one payment can hold.';
    await refusedAsTooMany('refundPayment', { paymentId, amountCents: 1, method: 'ORIGINAL_CARD', reason: 'Overcharged' }, patientId, ['input', 'paymentId'], full);
    const answer = await post('query($id: ID!) { payment(id: $id) { refundedCents refunds { id } canRefund { allowed code message } } }', { id: paymentId });
    const shown = answer.data?.payment as { refundedCents: number; refunds: unknown[]; canRefund: unknown };
    expect(shown.refunds).toHaveLength(20);
    expect(shown).toMatchObject({ refundedCents: 20, canRefund: { allowed: false, code: 'TOO_MANY_ITEMS', message: full } });
  });
});

describe('Charge.timeline: the oldest `first` entries, 1 to 200, default 100', () => {
  let chargeId: string;

  beforeAll(async () => {
    // 1 charge + 20 lines + 10 payments × 20 allocations: 221 entries.
    const patientId = await newPatient();
    const charge = await newCharge(patientId, 20);
    chargeId = charge.chargeId;
    for (let i = 0; i < 10; i++) {
      await accepted('recordPayment', { patientId, amountCents: 20, method: 'CASH', allocations: charge.lineIds.map((responsibilityId) => ({ responsibilityId, amountCents: 1 })) });
    }
  });

  const timeline = (first?: unknown) =>
    post(`query($id: ID!${first === undefined ? '' : ', $first: Int'}) { charge(id: $id) { timeline${first === undefined ? '' : '(first: $first)'} { kind } } }`, {
      id: chargeId,
      ...(first === undefined ? {} : { first }),
    });
  const entries = (answer: Answer) => (answer.data?.charge as { timeline: { kind: string }[] }).timeline;

  it('returns the oldest entries: 100 by default, as many as asked up to 200', async () => {
    const byDefault = entries(await timeline());
    expect(byDefault).toHaveLength(100);
    expect(byDefault.slice(0, 22).map((e) => e.kind)).toEqual(['CHARGE_CREATED', ...Array.from({ length: 20 }, () => 'PR_ADDED'), 'PAYMENT']);
    expect(entries(await timeline(1))).toEqual([{ kind: 'CHARGE_CREATED' }]);
    expect(entries(await timeline(200))).toHaveLength(200);
    expect(entries(await timeline(200)).slice(0, 100)).toEqual(byDefault);
  });

  it.each([0, -1, 201, 100_000])('refuses first: %p with BAD_USER_INPUT', async (first) => {
    const answer = await timeline(first);
    expect(answer.errors).toEqual([expect.objectContaining({ message: 'first must be from 1 to 200.', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
  });
});
