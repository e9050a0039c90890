/**
 * A dashboard on one socket (issue 9): many patients' live balances over one WebSocket connection, as one
 * patientBalanceChanged subscription per patient or as one patientBalancesChanged for all of them, against a real
 * server with the default per-caller limits (subscription start rate and per-connection cap included).
 *
 * Subscriptions go to instance SUB and mutations to instance MUT (the same server unless TEST_INSTANCES=2). Every
 * test works in a practice of its own, so it has its own events and its own per-caller limits. Nothing sleeps for a
 * fixed time: "never delivered" is shown by a later sentinel change arriving (one stream delivers in commit order).
 */
import crypto from 'node:crypto';
import { GraphQLSchema, print } from 'graphql';
import type { Client } from 'graphql-ws';
import {
  AuditTrailDocument,
  BalanceFieldsFragment,
  LiveWriteOffDocument,
  PatientBalanceChangedDocument,
  PatientBalancesChangedDocument,
  PatientsDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, TEST_SECRET } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { DEFAULT_SUBSCRIPTIONS_PER_CONNECTION, loadConfig } from '../../src/config';
import { BURST_SECONDS } from '../../src/transport/rate-limit';
import { MAX_WATCHED_PATIENTS } from '../../src/ledger';
import { MAX_AUDIT_ENTITY_IDS } from '../../src/ledger';
import { buildAppSchema } from '../../src/schema';
import type { BalanceView } from '../../src/read-model/views';
import { waitFor } from '../support/wait';

const MUT = 0;
const SUB = 1;
const ONE_PATIENT = print(PatientBalanceChangedDocument);
const MANY_PATIENTS = print(PatientBalancesChangedDocument);

type Balance = BalanceFieldsFragment;
type ErrorLike = { message: string; extensions?: Record<string, unknown> };

let server: TestServer;
const clients: Client[] = [];

beforeAll(async () => {
  // The default configuration: a dashboard must work within the limits every caller has.
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers


/** A practice of the test's own, and a caller in it (a dashboard reads: VIEWER would do; mutations need more). */
function practice(): Promise<Caller> {
  return server.caller('BILLING_MANAGER', `dash-${crypto.randomBytes(5).toString('hex')}`);
}

function client(caller: Caller): Client {
  const created = server.ws(caller, SUB);
  clients.push(created);
  return created;
}

interface Stream {
  items: Balance[];
  errors: ErrorLike[] | null;
  ended: boolean;
  stop(): void;
  /** The versions received for one patient, in order. */
  versionsOf(patientId: string): number[];
}

function watch(on: Client, query: string, variables: Record<string, unknown>): Stream {
  const stream: Stream = {
    items: [],
    errors: null,
    ended: false,
    stop: () => undefined,
    versionsOf: (patientId) => stream.items.filter((b) => b.patientId === patientId).map((b) => b.version),
  };
  stream.stop = on.subscribe<Record<string, Balance>>(
    { query, variables },
    {
      next: (result) => void (result.data && stream.items.push(Object.values(result.data)[0])),
      error: (error) => {
        stream.errors = Array.isArray(error) ? (error as ErrorLike[]) : [{ message: `the socket closed: ${JSON.stringify(error)}` }];
        stream.ended = true;
      },
      complete: () => void (stream.ended = true),
    },
  );
  return stream;
}

const watchOne = (on: Client, patientId: string) => watch(on, ONE_PATIENT, { patientId });
const watchMany = (on: Client, patientIds: string[]) => watch(on, MANY_PATIENTS, { patientIds });

async function received(stream: Stream, n: number): Promise<void> {
  await waitFor(() => stream.items.length >= n || stream.ended, () => `${n} message(s); got ${stream.items.length} (errors ${JSON.stringify(stream.errors)})`);
  if (stream.items.length < n) throw new Error(`the subscription ended early: ${JSON.stringify(stream.errors)}`);
}

async function reaches(stream: Stream, patientId: string, version: number): Promise<void> {
  await waitFor(
    () => stream.versionsOf(patientId).includes(version) || stream.ended,
    () => `${patientId}@${version}; got ${JSON.stringify(stream.versionsOf(patientId))}`,
  );
  if (!stream.versionsOf(patientId).includes(version)) throw new Error(`the subscription ended: ${JSON.stringify(stream.errors)}`);
}

async function ends(stream: Stream): Promise<void> {
  await waitFor(() => stream.ended, () => `the subscription to end; got ${stream.items.length} message(s)`);
}

const codes = (stream: Stream) => stream.errors?.map((e) => e.extensions?.code);

/** `count` patients of the caller's practice; the first `withLines` get a charge with one $100 line. */
async function patients(caller: Caller, count: number, withLines = 0): Promise<{ ids: string[]; lines: Map<string, string> }> {
  const ids: string[] = [];
  const lines = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const id = await newPatient(server, caller, 'Dash', `Board${String(i).padStart(3, '0')}`);
    ids.push(id);
    if (i < withLines) lines.set(id, (await newCharge(server, caller, id, [10_000])).lineIds[0]);
  }
  return { ids, lines };
}

/** Every balance of the caller's practice, by patient, in one query (one page holds a test's patients). */
async function balancesNow(caller: Caller): Promise<Map<string, Balance>> {
  const data = await server.ok(caller, PatientsDocument, { first: 100 }, MUT);
  return new Map(data.patients.edges.map((edge) => [edge.node.id, edge.node.balance]));
}

/** Writes off one cent of the line; returns the patient and its new version. */
async function change(caller: Caller, lineId: string): Promise<{ patientId: string; version: number }> {
  const data = await server.ok(caller, LiveWriteOffDocument, { input: { responsibilityId: lineId, amountCents: 1, reason: 'SMALL_BALANCE' } }, MUT);
  expect(data.writeOff.userErrors).toEqual([]);
  return data.writeOff.balance!;
}

const subscriptionInstance = () => server.instances[SUB % server.instances.length];

// ---------------------------------------------------------------------------------------------------------------

describe('limits', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema();
  });

  test('the default cap holds a 50-patient dashboard and fits in one burst of subscription starts; MAX_SUBSCRIPTIONS_PER_CONNECTION changes it', () => {
    const env = { NODE_ENV: 'test', AUTH_JWT_SECRET: TEST_SECRET };
    const limits = loadConfig(env).callerLimits;
    expect(limits.subscriptionsPerConnection).toBe(DEFAULT_SUBSCRIPTIONS_PER_CONNECTION);
    expect(limits.subscriptionsPerConnection).toBeGreaterThanOrEqual(50);
    // A full connection opens at once without RATE_LIMITED.
    expect(limits.subscriptionsPerConnection).toBeLessThanOrEqual(limits.subscriptionsPerSecond * BURST_SECONDS);
    expect(loadConfig({ ...env, MAX_SUBSCRIPTIONS_PER_CONNECTION: '300' }).callerLimits.subscriptionsPerConnection).toBe(300);
  });

  test('patientIds states its bound like every input list: extensions.maxItems and "at most N" in its description', () => {
    const [argument] = schema.getSubscriptionType()!.getFields().patientBalancesChanged.args;
    expect(argument.name).toBe('patientIds');
    expect(argument.extensions.maxItems).toBe(MAX_WATCHED_PATIENTS);
    expect(MAX_WATCHED_PATIENTS).toBe(500);
    expect(argument.description).toMatch(new RegExp(`at most ${MAX_WATCHED_PATIENTS}\\b`));
  });
});

describe('50 patients on one connection', () => {
  test('50 patientBalanceChanged subscriptions opened at once are all accepted with the default limits, and all live', async () => {
    const caller = await practice();
    const { ids, lines } = await patients(caller, 50, 3);
    const on = client(caller);
    const streams = ids.map((id) => watchOne(on, id));
    for (const stream of streams) await received(stream, 1);
    expect(streams.filter((s) => s.errors).map((s) => s.errors)).toEqual([]);
    const current = await balancesNow(caller);
    expect(streams.map((s) => s.items[0])).toEqual(ids.map((id) => current.get(id)));

    for (const [patientId, lineId] of lines) {
      const balance = await change(caller, lineId);
      await reaches(streams[ids.indexOf(patientId)], patientId, balance.version);
    }
    for (const [i, stream] of streams.entries()) expect(stream.items.length).toBe(lines.has(ids[i]) ? 2 : 1);
  });

  test('patientBalancesChanged over 50 patients: each current balance once, read in one query, then every change to any of them, versions rising per patient', async () => {
    const caller = await practice();
    const { ids, lines } = await patients(caller, 50, 5);
    const outsider = await newPatient(server, caller, 'Not', 'Watched');
    const { lineIds: outsiderLines } = await newCharge(server, caller, outsider, [10_000]);
    const current = await balancesNow(caller);
    const on = client(caller);

    const reads = jest.spyOn(subscriptionInstance().services.reader, 'balances');
    let stream: Stream;
    try {
      // Repeated ids are watched once.
      stream = watchMany(on, [...ids, ids[0], ids[7]]);
      await received(stream, 50);
      expect(reads.mock.calls.map(([, asked]) => [...asked].sort())).toEqual([[...ids].sort()]);
    } finally {
      reads.mockRestore();
    }
    expect(stream.items.map((b) => b.patientId).sort()).toEqual([...ids].sort());
    for (const balance of stream.items) expect(balance).toEqual(current.get(balance.patientId));

    // Three rounds of changes to five of the patients, and to a patient of the practice nobody watches.
    const expected = new Map([...lines.keys()].map((id) => [id, [current.get(id)!.version]]));
    for (let round = 0; round < 3; round++) {
      await change(caller, outsiderLines[0]);
      for (const [patientId, lineId] of lines) {
        const balance = await change(caller, lineId);
        expected.get(patientId)!.push(balance.version);
        await reaches(stream, patientId, balance.version);
      }
    }
    for (const [patientId, versions] of expected) {
      expect(stream.versionsOf(patientId)).toEqual(versions);
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBe(versions[i - 1] + 1);
    }
    // Nothing else came: 50 current balances and the 15 changes, none of the outsider's (it changed before the last ones).
    expect(stream.items).toHaveLength(50 + 15);
    expect(stream.versionsOf(outsider)).toEqual([]);
    const final = await balancesNow(caller);
    for (const patientId of lines.keys()) expect(stream.items.filter((b) => b.patientId === patientId).at(-1)).toEqual(final.get(patientId));
    expect(stream.errors).toBeNull();
  });

  test('a reader that falls behind gets the newest balance per patient, not a backlog', async () => {
    const caller = await practice();
    const { ids, lines } = await patients(caller, 2, 2);
    const actor = { userId: 'slow-dashboard', practiceId: caller.practiceId, role: 'VIEWER' as const, expiresAt: Math.floor(Date.now() / 1000) + 600 };
    // A subscriber that reads shows when the instance has heard every change.
    const reference = watchMany(client(caller), ids);
    await received(reference, 2);

    const slow = await subscriptionInstance().services.balanceSubscriptions.patients(actor, ids);
    try {
      const initial = [(await slow.next()).value as BalanceView, (await slow.next()).value as BalanceView];
      expect(initial.map((b) => `${b.patientId}@${b.version}`).sort()).toEqual(ids.map((id) => `${id}@1`).sort());
      const last = new Map<string, number>();
      for (let i = 0; i < 6; i++) for (const [patientId, lineId] of lines) last.set(patientId, (await change(caller, lineId)).version);
      for (const [patientId, version] of last) await reaches(reference, patientId, version);

      // Twelve changes while not reading: one balance per patient waits, the newest.
      const drained = [(await slow.next()).value as BalanceView, (await slow.next()).value as BalanceView];
      expect(drained.map((b) => `${b.patientId}@${b.version}`).sort()).toEqual([...last].map(([id, v]) => `${id}@${v}`).sort());
      // Nothing else is pending: the next change comes next.
      const next = await change(caller, lines.get(ids[0])!);
      expect(((await slow.next()).value as BalanceView).version).toBe(next.version);
    } finally {
      await slow.return!();
    }
  });
});

describe('refusals and isolation', () => {
  test(`the list is bounded: at most ${MAX_WATCHED_PATIENTS} ids (duplicates count, then collapse), at least one`, async () => {
    const caller = await practice();
    const { ids: [patientId], lines } = await patients(caller, 1, 1);
    const on = client(caller);

    const tooMany = watchMany(on, Array.from({ length: MAX_WATCHED_PATIENTS + 1 }, () => crypto.randomUUID()));
    const none = watchMany(on, []);
    // At the bound the list is taken: these ids are simply unknown.
    const atBound = watchMany(on, Array.from({ length: MAX_WATCHED_PATIENTS }, () => crypto.randomUUID()));
    for (const stream of [tooMany, none, atBound]) await ends(stream);
    const refusal = (stream: Stream) => stream.errors?.map((e) => [e.extensions?.code, e.message]);
    expect(refusal(tooMany)).toEqual([
      ['BAD_USER_INPUT', `patientIds holds at most ${MAX_WATCHED_PATIENTS} ids; this one has ${MAX_WATCHED_PATIENTS + 1}. Split the patients over several subscriptions.`],
    ]);
    expect(refusal(none)).toEqual([['BAD_USER_INPUT', 'patientIds must name at least one patient.']]);
    expect(codes(atBound)).toEqual(['NOT_FOUND']);
    for (const stream of [tooMany, none, atBound]) expect(stream.items).toEqual([]);

    // The same patient 500 times: one current balance, then one message per change.
    const same = watchMany(on, Array.from({ length: MAX_WATCHED_PATIENTS }, () => patientId));
    await received(same, 1);
    const balance = await change(caller, lines.get(patientId)!);
    await reaches(same, patientId, balance.version);
    expect(same.versionsOf(patientId)).toEqual([balance.version - 1, balance.version]);
  });

  test("an id of another practice ends the subscription with the same NOT_FOUND as an unknown id, before any message", async () => {
    const mine = await practice();
    const theirs = await practice();
    const { ids } = await patients(mine, 3);
    const theirPatient = await newPatient(server, theirs);
    const on = client(mine);

    const guessed = watchMany(on, [...ids, theirPatient]);
    const unknown = watchMany(on, [...ids, crypto.randomUUID()]);
    await ends(guessed);
    await ends(unknown);
    expect(codes(guessed)).toEqual(['NOT_FOUND']);
    expect(guessed.errors).toEqual(unknown.errors);
    expect(JSON.stringify(guessed.errors)).not.toContain(theirPatient);
    expect(JSON.stringify(guessed.errors)).not.toContain(theirs.practiceId);
    expect(guessed.items).toEqual([]);
    expect(unknown.items).toEqual([]);

    // The connection still serves the caller's own patients.
    const own = watchMany(on, ids);
    await received(own, 3);
    expect(own.errors).toBeNull();
  });

  test("a second practice's changes are never delivered, even while it watches patients of its own", async () => {
    const a = await practice();
    const b = await practice();
    const aPatients = await patients(a, 3, 3);
    const bPatients = await patients(b, 3, 3);
    const aStream = watchMany(client(a), aPatients.ids);
    const bStream = watchMany(client(b), bPatients.ids);
    await received(aStream, 3);
    await received(bStream, 3);

    // Interleaved changes in both practices; each practice's last change is its sentinel.
    let aLast = { patientId: '', version: -1 };
    let bLast = { patientId: '', version: -1 };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) {
        aLast = await change(a, aPatients.lines.get(aPatients.ids[i])!);
        bLast = await change(b, bPatients.lines.get(bPatients.ids[i])!);
      }
    }
    await reaches(aStream, aLast.patientId, aLast.version);
    await reaches(bStream, bLast.patientId, bLast.version);
    expect(aStream.items).toHaveLength(3 + 6);
    expect(bStream.items).toHaveLength(3 + 6);
    expect(new Set(aStream.items.map((x) => x.patientId))).toEqual(new Set(aPatients.ids));
    expect(new Set(bStream.items.map((x) => x.patientId))).toEqual(new Set(bPatients.ids));
  });

  test(`the audit trail names every watched patient, at most ${MAX_AUDIT_ENTITY_IDS} ids per event`, async () => {
    const caller = await practice();
    const { ids } = await patients(caller, MAX_AUDIT_ENTITY_IDS + 20);
    const stream = watchMany(client(caller), ids);
    await received(stream, ids.length);

    const trail = await server.ok(caller, AuditTrailDocument, { first: 10 }, MUT);
    const events = trail.auditTrail.edges.map((e) => e.node).filter((event) => event.operation === 'patientBalancesChanged');
    expect(events.map((event) => event.entityIds.length).sort((x, y) => x - y)).toEqual([20, MAX_AUDIT_ENTITY_IDS]);
    expect(events.flatMap((event) => event.entityIds).sort()).toEqual([...ids].sort());
    for (const event of events) expect(event).toMatchObject({ outcome: 'READ', patientId: null, actor: { id: caller.sub } });
    // And each patient's own trail finds it.
    const own = await server.ok(caller, AuditTrailDocument, { first: 10, patientId: ids.at(-1)! }, MUT);
    expect(own.auditTrail.edges.map((e) => e.node.operation)).toContain('patientBalancesChanged');
  });
});
