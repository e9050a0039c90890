/**
 * Every GraphQL example in the README runs, in the README's order, against a server with the demo data, as a new user
 * would paste it: each `q '<json>'` body over HTTP with the demo token, and each subscription in the README's code over
 * WebSocket. The `<placeholders>` are filled from earlier answers, as the README tells the reader to. An example that
 * drifts from the API (a renamed field, a refused input, a cost over the limit) fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestServer, startTestServer, TEST_SECRET } from '../harness';
import { signToken } from '../../src/auth/tokens';
import { DEMO_PRACTICE_ID } from '../../src/demo/seed';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

type Json = Record<string, any>;

/** The README's `q '…'` calls, in order (the shell quotes span lines; the JSON inside is exact). */
function httpCalls(): RegExpMatchArray[] {
  return [...README.matchAll(/\bq '(\{[\s\S]*?\})'/g)];
}

/** The bodies of the README's `q '…'` calls: every one of them runs. */
function httpExamples(): string[] {
  return httpCalls().map((m) => m[1]);
}

/** The subscription documents in the README's TypeScript and JavaScript blocks. */
function subscriptionExamples(): string[] {
  const blocks = [...README.matchAll(/```(?:ts|js|typescript|javascript)\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) => [...block.matchAll(/(['"`])(subscription\b[\s\S]*?)\1/g)].map((m) => m[2]));
}

/** Every object in an answer, depth first. */
function* objectsIn(value: unknown): Generator<Json> {
  if (Array.isArray(value)) for (const item of value) yield* objectsIn(item);
  else if (value && typeof value === 'object') {
    yield value as Json;
    for (const item of Object.values(value)) yield* objectsIn(item);
  }
}

/** What the README's placeholders stand for, learned from the answers before them. */
function learn(ids: Record<string, string>, data: Json): void {
  const lines = [...objectsIn(data)].filter((o) => 'canWriteOff' in o && o.canWriteOff?.allowed && typeof o.id === 'string');
  if (lines.length && !ids['line id']) ids['line id'] = lines[0].id;
  if (data.createPatient?.patient) ids.patient = data.createPatient.patient.id;
  if (data.createCharge?.charge?.responsibilities?.length) {
    ids.charge = data.createCharge.charge.id;
    ids.line = data.createCharge.charge.responsibilities[0].id;
  }
  if (data.importRemittanceFile?.batches?.[0]) ids['era batch'] = data.importRemittanceFile.batches[0].id;
  const remitted = data.recordRemittance?.charge?.responsibilities?.find((r: Json) => r.origin === 'REMITTANCE');
  if (remitted) ids['remittance line'] = remitted.id;
  if (data.recordPayment?.payment && !ids.payment) ids.payment = data.recordPayment.payment.id;
  if (data.writeOff?.writeOff) ids['write-off'] = data.writeOff.writeOff.id;
  // A search that finds one demo patient names it (`<indigo>`) and its first charge (`<blake charge>`).
  const found = data.patients?.edges;
  if (found?.length === 1 && found[0].node.firstName) {
    const name = String(found[0].node.firstName).toLowerCase();
    ids[name] = found[0].node.id;
    const charge = found[0].node.charges?.edges?.[0]?.node;
    if (charge) ids[`${name} charge`] = charge.id;
  }
  if (data.createPostingBatch?.batch) ids.batch = data.createPostingBatch.batch.id;
  if (data.postingBatch?.preview?.token) ids['preview token'] = data.postingBatch.preview.token;
  if (data.applyCredit?.payments?.[0]) ids['credit payment'] = data.applyCredit.payments[0].id;
}

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ env: { SEED_DEMO: 'true', NODE_ENV: 'development' } });
  token = await signToken(TEST_SECRET, { sub: 'demo-manager', practiceId: DEMO_PRACTICE_ID, role: 'BILLING_MANAGER' });
});
afterAll(() => server.stop());

test('the README has the examples this test runs: every `q \'` line of it, none left out', () => {
  expect(httpExamples().length).toBeGreaterThanOrEqual(12);
  // Each call the reader would paste starts a line; the extraction finds every one of those lines, and only them.
  const callLines = README.split('\n').filter((line) => line.startsWith("q '"));
  expect(httpExamples()).toHaveLength(callLines.length);
  const starts = httpCalls().map((m) => README.lastIndexOf('\n', m.index!) + 1);
  expect(httpCalls().map((m, i) => m.index! - starts[i])).toEqual(callLines.map(() => 0));
  for (const example of httpExamples()) expect(() => JSON.parse(example.replace(/<([a-z -]+)>/g, 'x'))).not.toThrow();
  expect(subscriptionExamples().length).toBeGreaterThanOrEqual(1);
});

test('every HTTP example, in order, is answered without errors or userErrors', async () => {
  const ids: Record<string, string> = {};
  for (const example of httpExamples()) {
    const body = example.replace(/<([a-z -]+)>/g, (whole, name: string) => {
      if (!ids[name]) throw new Error(`${whole} is used before an example gave it a value:\n${example}`);
      return ids[name];
    });
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const answer = (await response.json()) as { data?: Json; errors?: unknown[] };
    const where = `README example:\n${example}\nanswer: ${JSON.stringify(answer).slice(0, 600)}`;
    expect({ where, status: response.status, errors: answer.errors }).toEqual({ where, status: 200, errors: undefined });
    const refusals = [...objectsIn(answer.data)].flatMap((o) => (Array.isArray(o.userErrors) ? o.userErrors : []));
    expect({ where, refusals }).toEqual({ where, refusals: [] });
    // The README promises the example file's claim is matched: an import that proposed nothing would still answer.
    if (answer.data!.importRemittanceFile) {
      const [batch] = answer.data!.importRemittanceFile.batches;
      expect({ where, issues: batch.issues, entries: batch.entries.edges.length }).toEqual({ where, issues: [], entries: 1 });
    }
    learn(ids, answer.data!);
  }
});

test('every subscription example delivers the current balance over WebSocket', async () => {
  const patients = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ patients(first: 1) { edges { node { id } } } }' }),
  }).then((r) => r.json() as Promise<{ data: Json }>);
  const patientId = patients.data.patients.edges[0].node.id;
  const client = server.ws({ token });
  try {
    for (const query of subscriptionExamples()) {
      // Variables by the names the examples use; a patient-list subscription gets a list of one.
      const variables = { id: patientId, patientId, ids: [patientId], patientIds: [patientId] };
      const needsChange = /practiceBalanceChanged/.test(query);
      const first = new Promise<Json>((resolve, reject) => {
        const stop = client.subscribe({ query, variables }, {
          next: (value) => {
            stop();
            resolve(value as Json);
          },
          error: reject,
          complete: () => undefined,
        });
      });
      // A practice-wide subscription speaks only when something changes: make a change.
      if (needsChange) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { userErrors { code } } }', variables: { i: { patientId, amountCents: 100, method: 'CASH' } } }),
        });
      }
      const value = await first;
      expect({ query, errors: value.errors }).toEqual({ query, errors: undefined });
      expect(Object.values(value.data ?? {})[0]).toMatchObject({ version: expect.any(Number) });
    }
  } finally {
    await client.dispose();
  }
});
