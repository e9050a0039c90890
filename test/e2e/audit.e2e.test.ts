/** Issue 4: the audit trail, the charge timeline, and append-only ledger and audit rows. */
import {
  AuditTrailDocument,
  ChargeDocument,
  PatientDocument,
  RecordPaymentDocument,
  RefundPaymentDocument,
  RemoveWriteOffDocument,
  WriteOffDocument,
  CancelPrDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller } from '../harness';
import { newCharge, newPatient } from '../fixtures';

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer();
  manager = await server.caller('BILLING_MANAGER', undefined, 'manager-7');
});
afterAll(() => server.stop());

test('every mutation attempt and every read of patient data lands in the audit trail with actor, outcome and ids', async () => {
  const frontDesk = await server.caller('FRONT_DESK', undefined, 'desk-3');
  const patientId = await newPatient(server, frontDesk);
  const { lineIds } = await newCharge(server, frontDesk, patientId, [5000]);
  const accepted = await server.ok(frontDesk, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 1000, reason: 'SMALL_BALANCE' } });
  const refused = await server.ok(frontDesk, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 9000, reason: 'SMALL_BALANCE' } });
  expect(refused.writeOff.userErrors[0].code).toBe('WRITE_OFF_EXCEEDS_OPEN');
  await server.ok(frontDesk, PatientDocument, { id: patientId });

  const trail = await server.ok(manager, AuditTrailDocument, { patientId, first: 50 });
  const events = trail.auditTrail.edges.map((e) => e.node);
  const writeOffs = events.filter((e) => e.operation === 'writeOff');
  expect(writeOffs.map((e) => e.outcome).sort()).toEqual(['ACCEPTED', 'REFUSED']);
  const acceptedEvent = writeOffs.find((e) => e.outcome === 'ACCEPTED')!;
  expect(acceptedEvent.entityIds).toEqual(expect.arrayContaining([accepted.writeOff.writeOff!.id, lineIds[0]]));
  expect(acceptedEvent.actor).toEqual({ id: 'desk-3', role: 'FRONT_DESK' });
  expect(events.find((e) => e.operation === 'patient' && e.outcome === 'READ')).toMatchObject({ patientId, entityIds: [patientId] });
  expect(events.map((e) => e.operation)).toEqual(expect.arrayContaining(['createCharge', 'writeOff', 'patient']));

  // The refusal changed nothing, but it is in the patient's and the practice's trail with its code.
  const all = await server.ok(manager, AuditTrailDocument, { first: 100 });
  expect(all.auditTrail.edges.map((e) => e.node)).toEqual(
    expect.arrayContaining([expect.objectContaining({ operation: 'writeOff', outcome: 'REFUSED', code: 'WRITE_OFF_EXCEEDS_OPEN', actor: { id: 'desk-3', role: 'FRONT_DESK' } })]),
  );
});

test('a mutation attempt the role forbids is answered FORBIDDEN and recorded as refused with that code', async () => {
  const patientId = await newPatient(server, manager);
  const { lineIds } = await newCharge(server, manager, patientId, [5000]);
  const viewer = await server.caller('VIEWER', undefined, 'viewer-9');
  const attempt = await server.gql(viewer, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 1000, reason: 'SMALL_BALANCE' } });
  expect(attempt.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);

  const all = await server.ok(manager, AuditTrailDocument, { first: 20 });
  expect(all.auditTrail.edges.map((e) => e.node)).toEqual(
    expect.arrayContaining([expect.objectContaining({ operation: 'writeOff', outcome: 'REFUSED', code: 'FORBIDDEN', actor: { id: 'viewer-9', role: 'VIEWER' } })]),
  );
  expect((await server.ok(manager, PatientDocument, { id: patientId })).patient!.balance.writtenOffCents).toBe(0);
});

test('the audit trail pages newest first, filters by time, and is for BILLING_MANAGER and ADMIN only', async () => {
  const patientId = await newPatient(server, manager);
  for (let i = 0; i < 3; i++) await server.ok(manager, PatientDocument, { id: patientId });
  const first = await server.ok(manager, AuditTrailDocument, { patientId, first: 2 });
  expect(first.auditTrail.edges).toHaveLength(2);
  expect(first.auditTrail.pageInfo.hasNextPage).toBe(true);
  const next = await server.ok(manager, AuditTrailDocument, { patientId, first: 10, after: first.auditTrail.pageInfo.endCursor });
  const times = [...first.auditTrail.edges, ...next.auditTrail.edges].map((e) => e.node.occurredAt);
  expect([...times].sort().reverse()).toEqual(times);
  expect(new Set([...first.auditTrail.edges, ...next.auditTrail.edges].map((e) => e.node.id)).size).toBe(times.length);
  const future = await server.ok(manager, AuditTrailDocument, { patientId, from: '2099-01-01T00:00:00Z' });
  expect(future.auditTrail.edges).toEqual([]);

  const admin = await server.caller('ADMIN');
  expect((await server.gql(admin, AuditTrailDocument, { first: 1 })).errors).toBeUndefined();
  for (const role of ['VIEWER', 'FRONT_DESK', 'BILLING'] as const) {
    const result = await server.gql(await server.caller(role), AuditTrailDocument, { first: 1 });
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  }
  const otherPractice = await server.caller('ADMIN', 'another-practice');
  const theirs = await server.ok(otherPractice, AuditTrailDocument, { patientId });
  expect(theirs.auditTrail.edges).toEqual([]);
});

test("a charge's timeline lists every payment, refund, write-off, removal and cancellation in order, with who and why", async () => {
  const patientId = await newPatient(server, manager);
  const { chargeId, lineIds } = await newCharge(server, manager, patientId, [6000, 2000]);
  const payment = await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 1500, method: 'CHECK', allocations: [{ responsibilityId: lineIds[0], amountCents: 1500 }] } });
  await server.ok(manager, RefundPaymentDocument, { input: { paymentId: payment.recordPayment.payment!.id, amountCents: 500, method: 'EXTERNAL_CHECK', reason: 'Overpaid copay' } });
  const writeOff = await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 2000, reason: 'OTHER', customReason: 'Goodwill' } });
  expect(writeOff.writeOff.userErrors).toEqual([]);
  await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId: writeOff.writeOff.writeOff!.id, amountCents: 700, reason: 'Partial reinstatement' } });
  await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineIds[1], reason: 'Duplicate line' } });

  const { charge } = await server.ok(manager, ChargeDocument, { id: chargeId });
  // Every entry has an id of its own, even the two a cancelled line is behind (PR_ADDED and CANCELLATION).
  const cancelledLine = charge!.timeline.filter((e) => e.rowId === lineIds[1]).map((e) => e.kind);
  expect(cancelledLine).toEqual(expect.arrayContaining(['PR_ADDED', 'CANCELLATION']));
  expect(new Set(charge!.timeline.map((e) => e.id)).size).toBe(charge!.timeline.length);
  const timeline = charge!.timeline.map(({ kind, amountCents, responsibilityId, actorId, reason }) => ({ kind, amountCents, responsibilityId, actorId, reason }));
  expect(timeline[0]).toMatchObject({ kind: 'CHARGE_CREATED', amountCents: 100_000, actorId: 'manager-7' });
  expect(timeline.slice(-5)).toEqual([
    { kind: 'PAYMENT', amountCents: 1500, responsibilityId: lineIds[0], actorId: 'manager-7', reason: 'CHECK' },
    { kind: 'REFUND', amountCents: 500, responsibilityId: lineIds[0], actorId: 'manager-7', reason: 'Overpaid copay' },
    { kind: 'WRITE_OFF', amountCents: 2000, responsibilityId: lineIds[0], actorId: 'manager-7', reason: 'Goodwill' },
    { kind: 'WRITE_OFF_REMOVAL', amountCents: 700, responsibilityId: lineIds[0], actorId: 'manager-7', reason: 'Partial reinstatement' },
    { kind: 'CANCELLATION', amountCents: 2000, responsibilityId: lineIds[1], actorId: 'manager-7', reason: 'Duplicate line' },
  ]);
  const times = charge!.timeline.map((e) => e.occurredAt);
  expect([...times].sort()).toEqual(times);
});

test('the database refuses to edit or delete ledger and audit rows', async () => {
  const db = server.instances[0].services.db;
  for (const sql of ['UPDATE audit_events SET outcome = ?', 'DELETE FROM audit_events WHERE outcome <> ?', 'UPDATE write_offs SET amount_cents = 1 WHERE reason <> ?', 'DELETE FROM payments WHERE method <> ?']) {
    await expect(db.transaction((tx) => tx.query(sql, ['x']))).rejects.toThrow(/append-only|not allowed|never deleted/);
  }
  const [{ n }] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events');
  expect(Number(n)).toBeGreaterThan(0);
});
