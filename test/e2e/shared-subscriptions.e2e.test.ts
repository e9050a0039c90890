/**
 * Shared subscription execution (issue 13): subscribers whose operation gives the same bytes for the same balance
 * (same document, variables, practice and role) share one execution per balance, and isolation still holds. Two
 * practices and three roles subscribe with the very same documents — one patient's, and the practice's — on
 * connections of their own: each subscriber gets exactly its own practice's balances, versions rising, and the
 * server executes each balance once per group, not once per subscriber.
 */
import crypto from 'node:crypto';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { PatientBalanceChangedDocument, PracticeBalanceChangedDocument, BalanceDocument, LiveWriteOffDocument } from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, NO_CALLER_LIMITS } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { executions } from '../../src/balances/shared-execution';
import type { Role } from '../../src/auth/roles';
import { waitFor } from '../support/wait';

const MUT = 0;
const SUB = 1;
const ONE_PATIENT = print(PatientBalanceChangedDocument);
const PRACTICE = print(PracticeBalanceChangedDocument);
const ROLES: Role[] = ['VIEWER', 'FRONT_DESK', 'BILLING_MANAGER'];
const PER_ROLE = 3;

type Balance = { patientId: string; version: number; outstandingCents: number; writtenOffCents: number };
interface Stream {
  items: Balance[];
  errors: { extensions?: Record<string, unknown> }[] | null;
  ended: boolean;
}

let server: TestServer;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: NO_CALLER_LIMITS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});
afterAll(() => server.stop());


function subscribe(caller: Caller, query: string, variables: Record<string, unknown>): Stream {
  const on = server.ws(caller, SUB);
  clients.push(on);
  const stream: Stream = { items: [], errors: null, ended: false };
  on.subscribe<Record<string, Balance>>(
    { query, variables },
    {
      next: (result) => void (result.data && stream.items.push(Object.values(result.data)[0])),
      error: (error) => {
        stream.errors = error as Stream['errors'];
        stream.ended = true;
      },
      complete: () => void (stream.ended = true),
    },
  );
  return stream;
}

const has = (stream: Stream, patientId: string, version: number) => stream.items.some((b) => b.patientId === patientId && b.version === version);

async function balanceOf(caller: Caller, patientId: string) {
  return (await server.ok(caller, BalanceDocument, { id: patientId }, MUT)).patient!.balance;
}

test('two practices and three roles on the same documents: each subscriber gets its own practice only, one execution per balance and group', async () => {
  const tag = crypto.randomBytes(4).toString('hex');
  const practices = [`shared-a-${tag}`, `shared-b-${tag}`];
  const managers = await Promise.all(practices.map((p) => server.caller('BILLING_MANAGER', p)));
  const callers = await Promise.all(practices.map((p) => Promise.all(ROLES.map((role) => server.caller(role, p, `${role.toLowerCase()}-shared`)))));
  const patients = await Promise.all(managers.map((m) => newPatient(server, m)));
  const lines = await Promise.all(managers.map(async (m, i) => (await newCharge(server, m, patients[i], [10_000])).lineIds[0]));

  // The same two documents everywhere; the patient document even with the same variables across practices.
  const patientStreams = callers.map((inPractice, p) => inPractice.map((caller) => Array.from({ length: PER_ROLE }, () => subscribe(caller, ONE_PATIENT, { patientId: patients[p] }))));
  const practiceStreams = callers.map((inPractice) => inPractice.map((caller) => subscribe(caller, PRACTICE, {})));
  // Practice B asks for A's patient with A's document and variables, byte for byte: NOT_FOUND, like any unknown id.
  const guesses = callers[1].map((caller) => subscribe(caller, ONE_PATIENT, { patientId: patients[0] }));
  for (const guess of guesses) await waitFor(() => guess.ended, () => 'the guess to end');
  for (const guess of guesses) {
    expect(guess.items).toEqual([]);
    expect(guess.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  }
  for (const stream of patientStreams.flat(2)) await waitFor(() => stream.items.length >= 1, () => 'the current balance');

  // Practice streams start listening some time after the subscribe message: a probe patient per practice until each
  // stream has one, then a sentinel that every practice stream has seen marks the point from which all is counted.
  for (const [p, streams] of practiceStreams.entries()) {
    for (const stream of streams) {
      for (let attempt = 0; ; attempt++) {
        const probe = await newPatient(server, managers[p], 'Probe');
        try {
          await waitFor(() => has(stream, probe, 0), () => 'a probe', 250);
          break;
        } catch (error) {
          if (attempt > 40) throw error;
        }
      }
    }
    const sentinel = await newPatient(server, managers[p], 'Sentinel');
    for (const stream of streams) await waitFor(() => has(stream, sentinel, 0), () => 'the sentinel');
  }
  const marks = practiceStreams.map((streams) => streams.map((s) => s.items.length));
  const executedBefore = executions.count;

  // Interleaved write-offs in both practices, each accepted with the next version of its patient.
  const CHANGES = 3;
  const finals: Balance[] = [];
  for (let i = 0; i < CHANGES; i++) {
    for (const p of [0, 1]) {
      const data = await server.ok(managers[p], LiveWriteOffDocument, { input: { responsibilityId: lines[p], amountCents: 100 * (p + 1), reason: 'SMALL_BALANCE' } }, MUT);
      expect(data.writeOff.userErrors).toEqual([]);
      finals[p] = data.writeOff.balance as Balance;
    }
  }
  for (const p of [0, 1]) {
    for (const stream of [...patientStreams[p].flat(), ...practiceStreams[p]]) {
      await waitFor(() => has(stream, patients[p], finals[p].version), () => `version ${finals[p].version} in practice ${p}`);
    }
  }

  for (const p of [0, 1]) {
    const own = await balanceOf(managers[p], patients[p]);
    expect(own).toMatchObject({ version: finals[p].version });
    const start = finals[p].version - CHANGES;
    for (const stream of patientStreams[p].flat()) {
      // Exactly this patient's balances, each once, in version order, every one the whole balance.
      expect(stream.items.map((b) => `${b.patientId}@${b.version}`)).toEqual(Array.from({ length: CHANGES + 1 }, (_, v) => `${patients[p]}@${start + v}`));
      for (const item of stream.items) expect(item.writtenOffCents).toBe((item.version - start) * 100 * (p + 1));
      expect(stream.items.at(-1)).toEqual(own);
      expect(stream.errors).toBeNull();
    }
    for (const [r, stream] of practiceStreams[p].entries()) {
      expect(stream.items.slice(marks[p][r]).map((b) => `${b.patientId}@${b.version}`)).toEqual(Array.from({ length: CHANGES }, (_, v) => `${patients[p]}@${start + 1 + v}`));
    }
  }
  // Zero cross-practice balances on any stream, from the first message on.
  for (const p of [0, 1]) {
    const theirs = new Set([...patientStreams[1 - p].flat(), ...practiceStreams[1 - p]].flatMap((s) => s.items.map((b) => b.patientId)));
    for (const stream of [...patientStreams[p].flat(), ...practiceStreams[p]]) for (const item of stream.items) expect(theirs.has(item.patientId)).toBe(false);
  }
  // One execution per change and group: per practice, 3 patient groups (one per role) and 3 practice groups, whatever
  // the number of subscribers in each (PER_ROLE on every patient group).
  expect(executions.count - executedBefore).toBe(2 * CHANGES * (ROLES.length + ROLES.length));
}, 60_000);
