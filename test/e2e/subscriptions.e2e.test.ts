/**
 * Live balances over graphql-ws (issue 3, docs/design.md §2.6, §3, §4) against real servers, with the real `graphql-ws`
 * client and raw `ws` sockets where the protocol itself is under test.
 *
 * Subscriptions go to instance SUB and mutations to instance MUT: with one instance both are the same server; with
 * TEST_INSTANCES=2 (and TEST_REDIS_URL) every event crosses from one instance to the other through the bus.
 *
 * Every test works in a practice of its own, so practice-wide streams see only that test's changes. Nothing sleeps for
 * a fixed time: tests wait for conditions with a deadline, and "no other message" is shown by a later sentinel change
 * arriving with the very next version (messages of one stream arrive in commit order).
 */
import crypto from 'node:crypto';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  BalanceDocument,
  BalanceFieldsFragment,
  CancelPrDocument,
  CreatePatientDocument,
  LivePatientVersionDocument,
  LiveWriteOffDocument,
  PatientBalanceChangedDocument,
  PracticeBalanceChangedDocument,
  RecordPaymentDocument,
  RemoveWriteOffDocument,
  WriteOffDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, TEST_SECRET, NO_CALLER_LIMITS } from '../harness';
import { newPatient, newCharge, remittanceLine } from '../fixtures';
import { signToken } from '../../src/auth/tokens';
import { DEFAULT_SUBSCRIPTIONS_PER_CONNECTION } from '../../src/config';
import type { Role } from '../../src/auth/roles';
import type { BalanceView } from '../../src/read-model/views';
import { waitFor } from '../support/wait';

const MUT = 0;
const SUB = 1;
const PATIENT_QUERY = print(PatientBalanceChangedDocument);

type Balance = BalanceFieldsFragment;
type ErrorLike = { message: string; extensions?: Record<string, unknown> } & Record<string, unknown>;

let server: TestServer;
const clients: Client[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
  for (const socket of sockets.splice(0)) socket.terminate();
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Helpers


/** A practice of the test's own, and a caller in it. */
async function practice(role: Role = 'BILLING_MANAGER'): Promise<Caller> {
  return server.caller(role, `live-${crypto.randomBytes(5).toString('hex')}`);
}

function client(caller: Caller | { token: string } | null, instance = SUB, options?: Parameters<TestServer['ws']>[2]): Client {
  const created = server.ws(caller, instance, options);
  clients.push(created);
  return created;
}

interface CloseInfo {
  code: number;
  reason: string;
}

/** What one subscription has received so far, and how it ended. */
interface Stream<T> {
  items: T[];
  /** GraphQL errors (an `error` message) or a close event (the socket closed). */
  error: ErrorLike[] | CloseInfo | null;
  ended: boolean;
  stop(): void;
  versions(): number[];
}

function subscribe<R, V, T extends { version: number }>(on: Client, document: TypedDocumentNode<R, V>, variables: V, pick: (data: R) => T): Stream<T> {
  const stream: Stream<T> = {
    items: [],
    error: null,
    ended: false,
    stop: () => undefined,
    versions: () => stream.items.map((item) => item.version),
  };
  stream.stop = on.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.errors) stream.error = result.errors as unknown as ErrorLike[];
        if (result.data) stream.items.push(pick(result.data as R));
      },
      error: (error) => {
        stream.error = error as ErrorLike[] | CloseInfo;
        stream.ended = true;
      },
      complete: () => {
        stream.ended = true;
      },
    },
  );
  return stream;
}

/** A subscription from a hand-written request (possibly invalid), for what the typed documents cannot express. */
function subscribeRaw(on: Client, request: { query: string; variables?: Record<string, unknown>; operationName?: string }): Stream<Balance> {
  const stream: Stream<Balance> = { items: [], error: null, ended: false, stop: () => undefined, versions: () => stream.items.map((item) => item.version) };
  stream.stop = on.subscribe<Record<string, Balance>>(request, {
    next: (result) => void (result.data && stream.items.push(Object.values(result.data)[0])),
    error: (error) => {
      stream.error = error as ErrorLike[] | CloseInfo;
      stream.ended = true;
    },
    complete: () => void (stream.ended = true),
  });
  return stream;
}

const watchPatient = (on: Client, patientId: string) => subscribe(on, PatientBalanceChangedDocument, { patientId }, (data) => data.patientBalanceChanged);
const watchPractice = (on: Client) => subscribe(on, PracticeBalanceChangedDocument, {}, (data) => data.practiceBalanceChanged);

/** The first `n` messages arrived (for a patient stream, n = 1 is the current balance). */
async function received<T extends { version: number }>(stream: Stream<T>, n = 1, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => stream.items.length >= n || stream.ended, () => `${n} message(s); got ${JSON.stringify(stream.versions())}`, timeoutMs);
  if (stream.items.length < n) throw new Error(`the subscription ended early: ${JSON.stringify(stream.error)}`);
}

/** Until a message with this version (for this patient, on practice streams) has arrived. */
async function reaches<T extends { version: number; patientId?: string }>(stream: Stream<T>, version: number, patientId?: string, timeoutMs = 10_000): Promise<void> {
  const seen = () => stream.items.some((item) => item.version === version && (!patientId || item.patientId === patientId));
  await waitFor(() => seen() || stream.ended, () => `version ${version}; got ${JSON.stringify(stream.versions())} (error ${JSON.stringify(stream.error)})`, timeoutMs);
  if (!seen()) throw new Error(`the subscription ended before version ${version}: ${JSON.stringify(stream.error)}`);
}

/** Until the subscription ended (error or complete). */
async function ends<T extends { version: number }>(stream: Stream<T>, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => stream.ended, () => `the subscription to end; got ${JSON.stringify(stream.versions())}`, timeoutMs);
}

function errorCodes(error: Stream<never>['error']): unknown[] {
  return Array.isArray(error) ? error.map((e) => e.extensions?.code) : [];
}

function closeCode(error: Stream<never>['error']): number | undefined {
  return error && !Array.isArray(error) ? error.code : undefined;
}

/**
 * A practice stream sends nothing until something changes, and the client cannot tell when the server listens: create
 * probe patients (each publishes its version 0) until one arrives. From then on every change arrives, in order.
 */
async function ready(stream: Stream<Balance>, caller: Caller): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const probe = await newPatient(server, caller, 'Probe');
    try {
      await reaches(stream, 0, probe, 250);
      return;
    } catch {
      // not listening yet: try again
    }
  }
  throw new Error(`the practice stream never started: ${JSON.stringify(stream.error)}`);
}

async function balanceOf(caller: Caller, patientId: string): Promise<Balance> {
  return (await server.ok(caller, BalanceDocument, { id: patientId }, MUT)).patient!.balance;
}

async function writeOff(caller: Caller, lineId: string, amountCents = 1, idempotencyKey?: string) {
  const data = await server.ok(caller, LiveWriteOffDocument, { input: { responsibilityId: lineId, amountCents, reason: 'SMALL_BALANCE', idempotencyKey } }, MUT);
  return data.writeOff;
}

async function acceptedWriteOff(caller: Caller, lineId: string, amountCents = 1) {
  const result = await writeOff(caller, lineId, amountCents);
  expect(result.userErrors).toEqual([]);
  return result.balance!;
}

/** A graphql-transport-ws connection by hand, for what the client library hides (byte sizes, pausing reads). */
async function rawSocket(caller: Caller, instance = SUB) {
  const url = server.instances[instance % server.instances.length].url.replace(/^http/, 'ws');
  const socket = new WebSocket(url, 'graphql-transport-ws');
  sockets.push(socket);
  const messages: { id?: string; type: string; payload?: { data?: Record<string, Balance> } & Record<string, unknown> }[] = [];
  let closed: CloseInfo | null = null;
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  socket.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${caller.token}` } }));
  await waitFor(() => messages.some((m) => m.type === 'connection_ack'), () => 'connection_ack');
  return {
    socket,
    messages,
    get closed(): CloseInfo | null {
      return closed;
    },
    /** The balances received for subscription `id`. */
    balances: (id: string) => messages.filter((m) => m.id === id && m.type === 'next').map((m) => Object.values(m.payload!.data!)[0]),
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe('patientBalanceChanged', () => {
  test('sends the current balance first, then the whole new balance after each committed change, one message per mutation and subscriber', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [10_000, 5_000]);
    const current = await balanceOf(manager, patientId);

    // Three subscribers of the patient (two on the subscription instance, one on the mutating one) and one of the practice.
    const subscribers = [watchPatient(client(manager), patientId), watchPatient(client(manager), patientId), watchPatient(client(manager, MUT), patientId)];
    const dashboard = watchPractice(client(manager));
    await ready(dashboard, manager);
    for (const stream of subscribers) await received(stream);
    for (const stream of subscribers) expect(stream.items).toEqual([current]);

    // Five changes of four kinds; after each, every subscriber has the payload's whole balance, and nothing else.
    let writeOffId = '';
    const changes: (() => Promise<Balance>)[] = [
      async () =>
        (
          await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 3000, method: 'CARD', allocations: [{ responsibilityId: lineIds[0], amountCents: 3000 }] } }, MUT)
        ).recordPayment.balance!,
      async () => (await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 2500, reason: 'BAD_DEBT' } }, MUT)).writeOff.balance!,
      async () => {
        const data = await server.ok(manager, WriteOffDocument, { input: { responsibilityId: lineIds[1], amountCents: 500, reason: 'SMALL_BALANCE' } }, MUT);
        writeOffId = data.writeOff.writeOff!.id;
        return data.writeOff.balance!;
      },
      async () => (await server.ok(manager, RemoveWriteOffDocument, { input: { writeOffId, reason: 'Patient can pay' } }, MUT)).removeWriteOff.balance!,
      async () => (await server.ok(manager, CancelPrDocument, { input: { responsibilityId: lineIds[1], reason: 'Entered twice' } }, MUT)).cancelPR.balance!,
    ];
    const expected: Balance[] = [current];
    for (const change of changes) {
      const balance = await change();
      expect(balance.version).toBe(expected.at(-1)!.version + 1);
      expected.push(balance);
      for (const stream of subscribers) await reaches(stream, balance.version);
    }
    const final = await balanceOf(manager, patientId);
    expect(final).toEqual(expected.at(-1));
    for (const stream of subscribers) {
      expect(stream.items).toEqual(expected);
      // Whole balances, never deltas: the fields always add up.
      for (const item of stream.items) expect(item.outstandingCents).toBe(item.responsibilityCents - item.paidCents - item.writtenOffCents);
    }
    await reaches(dashboard, final.version, patientId);
    expect(dashboard.items.filter((b) => b.patientId === patientId).map((b) => b.version)).toEqual(subscribers[0].versions().slice(1));
    expect(dashboard.items.find((b) => b.patientId === patientId && b.version === final.version)).toEqual(final);
  });

  test('sends nothing for a refused mutation, a rolled-back transaction or an idempotent replay', async () => {
    const manager = await practice();
    const viewer = await server.caller('VIEWER', manager.practiceId);
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [1_000]);
    const { lineId: remittanceLineId } = await remittanceLine(server, manager, patientId, 2_000);
    const stream = watchPatient(client(manager), patientId);
    await received(stream);
    const start = stream.items[0].version;

    const first = await writeOff(manager, lineIds[0], 100, 'key-1');
    expect(first.userErrors).toEqual([]);
    expect(first.balance!.version).toBe(start + 1);

    // An idempotent replay: same objects, nothing changes.
    const replay = await writeOff(manager, lineIds[0], 100, 'key-1');
    expect(replay.userErrors).toEqual([]);
    expect(replay.balance!.version).toBe(start + 1);
    // Refusals: the key reused for another input and a charge that is not the patient's are refused inside the
    // transaction, after the patient was locked (rolled back); the others before anything is written.
    expect((await writeOff(manager, lineIds[0], 200, 'key-1')).userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const selfPay = await server.ok(manager, RecordPaymentDocument, { input: { patientId, amountCents: 500, method: 'CASH', purpose: 'SELF_PAY', chargeId: 'no-such-charge' } }, MUT);
    expect(selfPay.recordPayment.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect((await writeOff(manager, lineIds[0], 5_000)).userErrors.map((e) => e.code)).toEqual(['WRITE_OFF_EXCEEDS_OPEN']);
    const cancel = await server.ok(manager, CancelPrDocument, { input: { responsibilityId: remittanceLineId, reason: 'Wrong' } }, MUT);
    expect(cancel.cancelPR.userErrors.map((e) => e.code)).toEqual(['PR_FROM_REMITTANCE']);
    const forbidden = await server.gql(viewer, LiveWriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 1, reason: 'SMALL_BALANCE' } }, MUT);
    expect(forbidden.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await balanceOf(manager, patientId)).version).toBe(start + 1);

    // The sentinel: the very next message is the next accepted change.
    const sentinel = await acceptedWriteOff(manager, lineIds[0], 1);
    expect(sentinel.version).toBe(start + 2);
    await reaches(stream, start + 2);
    expect(stream.versions()).toEqual([start, start + 1, start + 2]);
  });

  test("an unknown patient, and another practice's patient, end the subscription with the same NOT_FOUND error", async () => {
    const mine = await practice();
    const theirs = await practice();
    const theirPatient = await newPatient(server, theirs);
    const on = client(mine);
    const unknown = watchPatient(on, crypto.randomUUID());
    const guessed = watchPatient(on, theirPatient);
    await ends(unknown);
    await ends(guessed);
    expect(unknown.items).toEqual([]);
    expect(guessed.items).toEqual([]);
    expect(errorCodes(unknown.error)).toEqual(['NOT_FOUND']);
    // Exactly like an id that does not exist: nothing tells the two apart.
    expect(guessed.error).toEqual(unknown.error);
    expect(Object.keys((unknown.error as ErrorLike[])[0]).sort()).toEqual(expect.arrayContaining(['extensions', 'message']));

    // The connection is still fine for the caller's own patients.
    const own = await newPatient(server, mine);
    const ok = watchPatient(on, own);
    await received(ok);
    expect(ok.items[0]).toMatchObject({ patientId: own, version: 0, outstandingCents: 0 });
  });
});

describe('practiceBalanceChanged', () => {
  test("two practices side by side: one message per change to any of the caller's patients, none from the other practice", async () => {
    const a = await practice();
    const b = await practice();
    const aStream = watchPractice(client(a));
    const bStream = watchPractice(client(b));
    await ready(aStream, a);
    await ready(bStream, b);
    const aMark = aStream.items.length;
    const bMark = bStream.items.length;

    // Interleaved activity in both practices.
    const a1 = await newPatient(server, a);
    const b1 = await newPatient(server, b);
    const a2 = await newPatient(server, a);
    const { lineIds: aLines } = await newCharge(server, a, a1, [4_000]);
    const { lineIds: bLines } = await newCharge(server, b, b1, [4_000]);
    await acceptedWriteOff(a, aLines[0], 100);
    await acceptedWriteOff(b, bLines[0], 100);
    await acceptedWriteOff(a, aLines[0], 100);
    await newCharge(server, a, a2, [700]);
    // B guesses A's patient id: NOT_FOUND, as for any unknown id, and it learns nothing.
    const guessed = watchPatient(client(b), a1);
    await ends(guessed);
    expect(errorCodes(guessed.error)).toEqual(['NOT_FOUND']);
    expect(guessed.items).toEqual([]);

    // Sentinels: once each practice's last change arrived, everything before it has too.
    const aLast = await acceptedWriteOff(a, aLines[0], 100);
    const bLast = await acceptedWriteOff(b, bLines[0], 100);
    await reaches(aStream, aLast.version, a1);
    await reaches(bStream, bLast.version, b1);

    const seen = (stream: Stream<Balance>, mark: number) => stream.items.slice(mark).map((x) => `${x.patientId}@${x.version}`);
    expect(seen(aStream, aMark)).toEqual([`${a1}@0`, `${a2}@0`, `${a1}@1`, `${a1}@2`, `${a1}@3`, `${a2}@1`, `${a1}@4`]);
    expect(seen(bStream, bMark)).toEqual([`${b1}@0`, `${b1}@1`, `${b1}@2`, `${b1}@3`]);
    // Zero cross-practice events, probes included.
    const aPatients = new Set(aStream.items.map((x) => x.patientId));
    for (const x of bStream.items) expect(aPatients.has(x.patientId)).toBe(false);
    expect(aStream.items.at(-1)).toEqual(await balanceOf(a, a1));
  });

  test('a VIEWER may subscribe to a patient and to the practice, though it may not change anything', async () => {
    const manager = await practice();
    const viewer = await server.caller('VIEWER', manager.practiceId, 'dashboard-1');
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [2_000]);
    const on = client(viewer);
    const patient = watchPatient(on, patientId);
    const dashboard = watchPractice(on);
    await received(patient);
    await ready(dashboard, manager);

    const refused = await server.gql(viewer, LiveWriteOffDocument, { input: { responsibilityId: lineIds[0], amountCents: 1, reason: 'SMALL_BALANCE' } }, MUT);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const balance = await acceptedWriteOff(manager, lineIds[0], 250);
    await reaches(patient, balance.version);
    await reaches(dashboard, balance.version, patientId);
    expect(patient.items.at(-1)).toMatchObject(balance);
    expect(patient.versions()).toEqual([balance.version - 1, balance.version]);
  });
});

describe('credentials', () => {
  test('a missing, malformed, forged or expired token, or one without a known role, closes the socket with 4403', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const claims = { sub: 'someone', practiceId: manager.practiceId, role: 'BILLING_MANAGER' as const };
    const refused: [string, { token: string } | null][] = [
      ['no connectionParams', null],
      ['not a JWT', { token: 'not-a-jwt' }],
      ['forged (another secret)', { token: await signToken('another-secret-that-is-also-long-enough-for-hs256', claims) }],
      ['expired', { token: await signToken(TEST_SECRET, claims, { expiresIn: Math.floor(Date.now() / 1000) - 60 }) }],
      ['unknown role', { token: await signToken(TEST_SECRET, { ...claims, role: 'JANITOR' as Role }) }],
      ['a practiceId that is not an id', { token: await signToken(TEST_SECRET, { ...claims, practiceId: '../../etc' }) }],
    ];
    const streams = refused.map(([, caller]) => {
      const on = client(caller);
      const closes: number[] = [];
      on.on('closed', (event) => closes.push((event as CloseInfo).code));
      return { stream: watchPatient(on, patientId), closes };
    });
    for (const [i, { stream, closes }] of streams.entries()) {
      await ends(stream);
      expect([refused[i][0], closeCode(stream.error)]).toEqual([refused[i][0], 4403]);
      expect([refused[i][0], closes]).toEqual([refused[i][0], [4403]]);
      expect(stream.items).toEqual([]);
    }
    // Without "Bearer": refused too.
    const bare = watchPatient(client(null, SUB, { connectionParams: { authorization: manager.token } }), patientId);
    await ends(bare);
    expect(closeCode(bare.error)).toBe(4403);
  });

  test('a token that expires ends its subscriptions with 4403; other connections carry on', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [2_000]);
    const shortLived = { token: await signToken(TEST_SECRET, { sub: 'short', practiceId: manager.practiceId, role: 'VIEWER' }, { expiresIn: '3s' }) };
    const expiring = client(shortLived);
    const expiringPatient = watchPatient(expiring, patientId);
    const expiringPractice = watchPractice(expiring);
    const lasting = watchPatient(client(manager), patientId);
    await received(expiringPatient);
    await received(lasting);

    // While the token is valid, changes arrive.
    const before = await acceptedWriteOff(manager, lineIds[0]);
    await reaches(expiringPatient, before.version);

    await ends(expiringPatient, 5_000);
    await ends(expiringPractice, 1_000);
    expect(closeCode(expiringPatient.error)).toBe(4403);
    expect(closeCode(expiringPractice.error)).toBe(4403);

    const after = await acceptedWriteOff(manager, lineIds[0]);
    await reaches(lasting, after.version);
    expect(expiringPatient.versions()).not.toContain(after.version);
  });
});

describe('requests over the socket', () => {
  const aliases = (n: number) => Array.from({ length: n }, (_, i) => `v${i}: version`).join(' ');

  /** The same document over HTTP (status and codes) and as a graphql-ws subscription (error codes). */
  async function bothWays(caller: Caller, request: { query: string; variables?: Record<string, unknown>; operationName?: string }) {
    const response = await fetch(server.instances[MUT].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${caller.token}` },
      body: JSON.stringify(request),
    });
    const http = (await response.json()) as { errors?: ErrorLike[] };
    const stream = subscribeRaw(client(caller), request);
    await ends(stream);
    return { httpCodes: (http.errors ?? []).map((e) => e.extensions?.code), http: http.errors ?? [], wsCodes: errorCodes(stream.error), ws: stream.error as ErrorLike[], items: stream.items };
  }

  test('validation and error codes are the same as over HTTP', async () => {
    const manager = await practice();
    const cases: [string, { query: string; variables?: Record<string, unknown>; operationName?: string }][] = [
      ['a syntax error', { query: 'subscription { patientBalanceChanged(' }],
      ['an unknown field', { query: 'subscription { practiceBalanceChanged { patientId secretField } }' }],
      ['a missing variable', { query: PATIENT_QUERY, variables: {} }],
      ['a variable of the wrong type', { query: PATIENT_QUERY, variables: { patientId: { $gt: '' } } }],
      ['an unknown operation name', { query: PATIENT_QUERY, variables: { patientId: 'x' }, operationName: 'Nope' }],
      ['two operations and no name', { query: `${PATIENT_QUERY}\nsubscription Other { practiceBalanceChanged { version } }`, variables: { patientId: 'x' } }],
      ['too many aliases', { query: `subscription { practiceBalanceChanged { ${aliases(40)} } }` }],
    ];
    for (const [name, request] of cases) {
      const { httpCodes, wsCodes, http, ws, items } = await bothWays(manager, request);
      expect({ name, items }).toEqual({ name, items: [] });
      expect({ name, codes: wsCodes }).toEqual({ name, codes: httpCodes });
      expect({ name, code: wsCodes[0] }).not.toEqual({ name, code: 'INTERNAL_SERVER_ERROR' });
      // Deliberate errors say what is wrong, as over HTTP.
      expect({ name, message: ws[0].message }).toEqual({ name, message: http[0].message });
    }
  });

  test('errors are masked as over HTTP: a database failure shows no stack, no SQL, only a generic message', async () => {
    const own = await startTestServer({ instances: 1 });
    try {
      const manager = await own.caller('BILLING_MANAGER');
      const patientId = await newPatient(own, manager);
      const on = own.ws(manager);
      clients.push(on);
      const first = subscribe(on, PatientBalanceChangedDocument, { patientId }, (d) => d.patientBalanceChanged);
      await received(first);
      // The database goes away under an open connection: new subscriptions fail, and say nothing about why.
      await own.instances[0].services.db.close();
      const failed = [subscribe(on, PatientBalanceChangedDocument, { patientId }, (d) => d.patientBalanceChanged), subscribe(on, PracticeBalanceChangedDocument, {}, (d) => d.practiceBalanceChanged)];
      for (const stream of failed) await ends(stream);
      const http = await own.gql(manager, BalanceDocument, { id: patientId });
      for (const errors of [...failed.map((stream) => stream.error as ErrorLike[]), http.errors as ErrorLike[]]) {
        expect(errors).toHaveLength(1);
        expect(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']).toContain(errors[0].extensions?.code);
        expect(Object.keys(errors[0].extensions!)).toEqual(['code']);
        expect(JSON.stringify(errors)).not.toMatch(/select|sqlite|postgres|typeorm|stack|\.ts:|at \w+ \(/i);
      }
      for (const stream of failed) expect(stream.items).toEqual([]);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      await own.stop();
    }
  });

  test('introspection over the socket is refused in production, as over HTTP', async () => {
    const own = await startTestServer({ instances: 1, env: { NODE_ENV: 'production' } });
    try {
      const manager = await own.caller('VIEWER');
      const query = '{ __schema { queryType { name } } }';
      const response = await fetch(own.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${manager.token}` }, body: JSON.stringify({ query }) });
      const http = (await response.json()) as { errors?: ErrorLike[] };
      const on = own.ws(manager);
      clients.push(on);
      let wsErrors: ErrorLike[] | null = null;
      let data: unknown = null;
      await new Promise<void>((resolve) =>
        on.subscribe({ query }, { next: (r) => void (data = r.data ?? data), error: (e) => ((wsErrors = e as ErrorLike[]), resolve()), complete: resolve }),
      );
      // (Apollo adds a message of its own to the same refusal over HTTP.)
      expect(new Set(http.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(data).toBeNull();
      expect(new Set(errorCodes(wsErrors))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect((wsErrors as ErrorLike[] | null)?.[0].message).toMatch(/introspection/i);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      await own.stop();
    }
  });

  test('a message over 64 KiB closes that socket; the server keeps serving everyone else', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [2_000]);
    const bystander = watchPatient(client(manager), patientId);
    await received(bystander);

    // Just under the limit (the padding is a comment, so it costs no tokens): served.
    const raw = await rawSocket(manager);
    const subscribeMessage = (id: string, bytes: number) => {
      const head = JSON.stringify({ id, type: 'subscribe', payload: { query: `${PATIENT_QUERY}\n#`, variables: { patientId } } });
      return head.replace('\\n#"', `\\n#${'x'.repeat(bytes - head.length)}"`);
    };
    const small = subscribeMessage('small', 60 * 1024);
    expect(Buffer.byteLength(small)).toBe(60 * 1024);
    raw.socket.send(small);
    await waitFor(() => raw.balances('small').length === 1, () => 'the initial balance on the raw socket');

    const big = subscribeMessage('big', 64 * 1024 + 1);
    expect(Buffer.byteLength(big)).toBe(64 * 1024 + 1);
    // graphql-ws reports the refused frame with console.error (it shares this process): keep the test output clean.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      raw.socket.send(big);
      await waitFor(() => raw.closed !== null, () => 'the oversized message to close the socket');
    } finally {
      consoleError.mockRestore();
    }
    expect(raw.closed!.code).toBe(1009);
    expect(raw.balances('big')).toEqual([]);

    // Everyone else is unaffected, and new connections are welcome.
    const balance = await acceptedWriteOff(manager, lineIds[0]);
    await reaches(bystander, balance.version);
    const newcomer = watchPatient(client(manager), patientId);
    await received(newcomer);
    expect(newcomer.items[0]).toEqual(await balanceOf(manager, patientId));
  });

  test(`at most ${DEFAULT_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection by default; failed and finished ones give their slot back`, async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const on = client(manager);

    // Subscriptions that never start take no slot: unknown patients, invalid documents, unknown operations.
    for (let i = 0; i < 5; i++) {
      const failures = [
        watchPatient(on, crypto.randomUUID()),
        subscribeRaw(on, { query: 'subscription { practiceBalanceChanged { nope } }' }),
        subscribeRaw(on, { query: PATIENT_QUERY, variables: { patientId }, operationName: 'Nope' }),
        subscribeRaw(on, { query: PATIENT_QUERY, variables: { patientId: 42.5 } }),
      ];
      for (const stream of failures) await ends(stream);
      expect(failures.map((f) => f.items.length)).toEqual([0, 0, 0, 0]);
    }

    const streams = Array.from({ length: DEFAULT_SUBSCRIPTIONS_PER_CONNECTION }, () => watchPatient(on, patientId));
    for (const stream of streams) await received(stream);
    const extra = watchPatient(on, patientId);
    await ends(extra);
    expect(extra.items).toEqual([]);
    expect(errorCodes(extra.error)).toEqual(['BAD_REQUEST']);
    expect((extra.error as ErrorLike[])[0].message).toBe(`At most ${DEFAULT_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection.`);

    // Ending one frees its slot; the others keep going.
    streams[0].stop();
    const replacement = watchPatient(on, patientId);
    await received(replacement);
    // A second connection has slots of its own.
    const other = watchPatient(client(manager), patientId);
    await received(other);
    await newCharge(server, manager, patientId, [500]);
    const latest = await balanceOf(manager, patientId);
    for (const stream of [...streams.slice(1), replacement, other]) await reaches(stream, latest.version);
    expect(streams[0].versions()).toEqual([0]);
  });
});

describe('delivery', () => {
  test('a slow subscriber cannot hold up the others, and then catches up to the newest balance', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [10_000]);
    const slow = await rawSocket(manager);
    slow.socket.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: PATIENT_QUERY, variables: { patientId } } }));
    await waitFor(() => slow.balances('slow').length === 1, () => 'the slow subscriber to start');
    const fast = [watchPatient(client(manager), patientId), watchPatient(client(manager), patientId)];
    for (const stream of fast) await received(stream);

    // The slow one stops reading its socket; the others get every change as it commits.
    slow.socket.pause();
    let last: Balance | null = null;
    for (let i = 0; i < 15; i++) {
      last = (await acceptedWriteOff(manager, lineIds[0], 10)) as Balance;
      for (const stream of fast) await reaches(stream, last.version, undefined, 3_000);
    }
    slow.socket.resume();
    await waitFor(() => slow.balances('slow').some((b) => b.version === last!.version), () => `the slow subscriber to reach version ${last!.version}`);
    const versions = slow.balances('slow').map((b) => b.version);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]);
    expect(slow.balances('slow').at(-1)).toMatchObject({ patientId, version: last!.version, outstandingCents: last!.outstandingCents });
  });

  test('latest wins: a stream that is not read keeps only the newest balance per patient', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const otherId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [10_000]);
    const { lineIds: otherLines } = await newCharge(server, manager, otherId, [10_000]);
    const instance = server.instances[SUB % server.instances.length];
    const actor = { userId: 'slow-dashboard', practiceId: manager.practiceId, role: 'VIEWER' as const, expiresAt: Math.floor(Date.now() / 1000) + 600 };
    // A reference subscriber on the same instance shows when that instance has heard every change.
    const reference = watchPatient(client(manager), patientId);
    const referenceOther = watchPatient(client(manager), otherId);
    await received(reference);
    await received(referenceOther);

    const patientStream = await instance.services.balanceSubscriptions.patients(actor, [patientId]);
    const practiceStream = instance.services.balanceSubscriptions.practice(actor);
    try {
      const initial = (await patientStream.next()).value as BalanceView;
      expect(initial.version).toBe(reference.items[0].version);

      let last: Balance | null = null;
      let lastOther: Balance | null = null;
      for (let i = 0; i < 6; i++) {
        last = (await acceptedWriteOff(manager, lineIds[0], 10)) as Balance;
        lastOther = (await acceptedWriteOff(manager, otherLines[0], 10)) as Balance;
      }
      await reaches(reference, last!.version);
      await reaches(referenceOther, lastOther!.version);

      // Twelve changes, nobody reading: the patient stream holds one balance, the practice stream one per patient.
      const next = (await patientStream.next()).value as BalanceView;
      expect(next).toEqual(reference.items.at(-1));
      const drained = [(await practiceStream.next()).value as BalanceView, (await practiceStream.next()).value as BalanceView];
      expect(drained.map((b) => `${b.patientId}@${b.version}`).sort()).toEqual([`${patientId}@${last!.version}`, `${otherId}@${lastOther!.version}`].sort());
      // Nothing else is pending: the next change comes next.
      const more = (await acceptedWriteOff(manager, lineIds[0], 10)) as Balance;
      expect(((await patientStream.next()).value as BalanceView).version).toBe(more.version);
      expect(((await practiceStream.next()).value as BalanceView).version).toBe(more.version);
    } finally {
      await patientStream.return!();
      await practiceStream.return!();
    }
  });

  test('200 subscribers of one patient under 100 concurrent write-offs all end on the final version, versions strictly rising', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    // Five lines of $100, so that 100 write-offs stay within the 20 a line holds.
    const { lineIds } = await newCharge(server, manager, patientId, Array.from({ length: 5 }, () => 10_000));
    const start = (await balanceOf(manager, patientId)).version;

    // 200 subscribers, each on a connection of its own, three in four on the instance that does not take the writes.
    const streams = Array.from({ length: 200 }, (_, i) =>
      subscribe(client(manager, i % 4 === 0 ? MUT : SUB), LivePatientVersionDocument, { patientId }, (d) => d.patientBalanceChanged),
    );
    for (const stream of streams) await received(stream, 1, 30_000);

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => server.gql(manager, LiveWriteOffDocument, { input: { responsibilityId: lineIds[i % 5], amountCents: 7, reason: 'SMALL_BALANCE' } }, MUT)),
    );
    const final = await balanceOf(manager, patientId);

    // Every subscriber ends on the database's final version, versions strictly rising, each message a whole balance.
    await waitFor(
      () => streams.every((s) => s.items.at(-1)!.version === final.version),
      () => `every subscriber at version ${final.version}; behind: ${streams.filter((s) => s.items.at(-1)!.version !== final.version).length}`,
      20_000,
    );
    for (const stream of streams) {
      const versions = stream.versions();
      expect(versions[0]).toBe(start);
      for (let i = 1; i < versions.length; i++) if (versions[i] <= versions[i - 1]) throw new Error(`versions went ${versions[i - 1]} → ${versions[i]}: ${versions.join(',')}`);
      // 7 cents written off per change: the balance of version v is the whole balance after v - start write-offs.
      for (const item of stream.items) expect(item.writtenOffCents).toBe((item.version - start) * 7);
      expect(stream.items.at(-1)).toMatchObject({ version: final.version, outstandingCents: final.outstandingCents, writtenOffCents: final.writtenOffCents });
      expect(stream.error).toBeNull();
    }

    // Every write-off was accepted (the line has room for all of them), each under a version of its own.
    const accepted = responses.filter((r) => r.data?.writeOff.balance).map((r) => r.data!.writeOff.balance!.version);
    const failures = responses.flatMap((r) => [...(r.errors ?? []).map((e) => e.extensions?.code), ...(r.data?.writeOff.userErrors ?? []).map((e) => e.code)]);
    expect({ committed: final.version - start, reportedAccepted: accepted.length }).toEqual({ committed: accepted.length, reportedAccepted: accepted.length });
    expect(failures).toEqual([]);
    expect(accepted.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => start + 1 + i));
    expect(final).toMatchObject({ version: start + 100, writtenOffCents: 700, outstandingCents: 50_000 - 700 });
  }, 60_000);

  test('a client that reconnects converges to the current balance', async () => {
    const manager = await practice();
    const patientId = await newPatient(server, manager);
    const { lineIds } = await newCharge(server, manager, patientId, [5_000]);
    const first = client(manager);
    const before = watchPatient(first, patientId);
    await received(before);
    const seen = (await acceptedWriteOff(manager, lineIds[0], 100)).version;
    await reaches(before, seen);

    // Offline: the socket drops, changes happen meanwhile.
    await first.dispose();
    await ends(before);
    for (let i = 0; i < 3; i++) await acceptedWriteOff(manager, lineIds[0], 100);
    const current = await balanceOf(manager, patientId);

    // Back online (on the other instance too): the first message is the current balance, and changes continue from it.
    for (const instance of [SUB, MUT]) {
      const again = watchPatient(client(manager, instance), patientId);
      await received(again);
      expect(again.items[0]).toEqual(current);
    }
    const again = watchPatient(client(manager), patientId);
    await received(again);
    const next = await acceptedWriteOff(manager, lineIds[0], 100);
    await reaches(again, next.version);
    expect(again.versions()).toEqual([current.version, current.version + 1]);
  });

  test('creating a patient is a change the practice stream reports, at version 0', async () => {
    const manager = await practice();
    const dashboard = watchPractice(client(manager));
    await ready(dashboard, manager);
    const created = await server.ok(manager, CreatePatientDocument, { input: { firstName: 'New', lastName: 'Patient' } }, MUT);
    const patient = created.createPatient.patient!;
    await reaches(dashboard, 0, patient.id);
    expect(dashboard.items.find((b) => b.patientId === patient.id)).toEqual(patient.balance);
  });
});
