/**
 * The write path of docs/operations.md §1 over real HTTP: a write-off's unit stays within its statement budget however
 * long the patient's history, write-offs that arrive together share a commit, and the in-memory ledger is never used
 * once another instance has changed the patient behind it.
 */
import { BalanceDocument, WriteOffDocument } from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { unitStatements } from '../../src/ledger-store/unit-statistics';

const writeOff = (server: TestServer, caller: Caller, responsibilityId: string, amountCents = 1, instance = 0) =>
  server.ok(caller, WriteOffDocument, { input: { responsibilityId, amountCents, reason: 'SMALL_BALANCE' } }, instance);

describe('statements and commits (the verifier off: it reads the whole patient inside the unit)', () => {
  let server: TestServer;
  let manager: Caller;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...NO_CALLER_LIMITS, LEDGER_VERIFY: '0' }, instances: 1 });
    manager = await server.caller('BILLING_MANAGER');
  });
  afterAll(() => server.stop());

  test('a write-off runs at most 6 statements in its unit, on a new patient and on one with 400 ledger rows', async () => {
    const fresh = await newPatient(server, manager);
    const { lineIds: [freshLine] } = await newCharge(server, manager, fresh, [10_000]);
    const busy = await newPatient(server, manager);
    const busyLines: string[] = [];
    for (let i = 0; i < 5; i++) busyLines.push(...(await newCharge(server, manager, busy, Array(20).fill(10_000), 1_000_000)).lineIds);
    for (const line of busyLines) for (let k = 0; k < 3; k++) await writeOff(server, manager, line);

    unitStatements.delete('writeOff');
    await writeOff(server, manager, freshLine);
    await writeOff(server, manager, busyLines[0]);
    const seen = unitStatements.get('writeOff')!;
    expect(seen.units).toBe(2);
    expect(seen.max).toBeLessThanOrEqual(6);
  });

  test('write-offs sent together share commits, and each answer carries its own version', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, Array(5).fill(10_000));
    // SQLite's group commit counts its transactions; PostgreSQL commits each unit on its own pooled connection.
    const stats = server.instances[0].services.db.groupCommitStats;
    if (process.env.TEST_DB !== 'postgres') expect(stats).not.toBeNull();
    const before = stats && { ...stats };
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => writeOff(server, manager, lineIds[i % 5])));
    const versions = answers.map((a) => a.writeOff.balance!.version).sort((a, b) => a - b);
    // Every write-off got a version of its own, the balance it produced, though they committed together.
    expect(new Set(versions).size).toBe(40);
    expect(answers.every((a) => a.writeOff.userErrors.length === 0)).toBe(true);
    if (stats && before) {
      expect(stats.units - before.units).toBeGreaterThanOrEqual(40);
      expect(stats.commits - before.commits).toBeLessThan(40);
      expect(stats.largest).toBeGreaterThan(1);
    }
  });
});

describe('two instances on one database: the cached ledger is checked against the version', () => {
  let server: TestServer;
  let manager: Caller;
  beforeAll(async () => {
    server = await startTestServer({ env: NO_CALLER_LIMITS, instances: 2 });
    manager = await server.caller('BILLING_MANAGER');
  });
  afterAll(() => server.stop());

  test('a write-off on instance A after instance B changed the patient sees B’s change, never A’s stale state', async () => {
    const patientId = await newPatient(server, manager);
    const { lineIds: [line] } = await newCharge(server, manager, patientId, [1_000]);
    // A learns the patient (its state is now in A's memory), then B writes off most of the line behind A's back.
    await writeOff(server, manager, line, 100, 0);
    await writeOff(server, manager, line, 800, 1);
    // A stale state would still see $9.00 open and accept $2.00; the real line has $1.00 left.
    const tooMuch = await writeOff(server, manager, line, 200, 0);
    expect(tooMuch.writeOff.userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
    const rest = await writeOff(server, manager, line, 100, 0);
    expect(rest.writeOff.userErrors).toEqual([]);
    const balance = (await server.ok(manager, BalanceDocument, { id: patientId })).patient!.balance;
    expect(balance).toMatchObject({ writtenOffCents: 1_000, outstandingCents: 0, version: 4 });
  });
});
