/**
 * Issue 4, item 3: the hardened surface, on HTTP and WebSocket alike (docs/operations.md §3).
 *
 * Query depth (12), aliases (15), cost (250,000) and tokens (5,000) limits; a 1 MiB request body (413) and a 64 KiB
 * WebSocket frame; no batched arrays; CSRF prevention; introspection, schema hints and the landing page off in
 * production; unexpected errors masked the same way on both transports; a per-caller mutation rate limit.
 */
import crypto from 'node:crypto';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CreatePatientDocument,
  PatientBalanceChangedDocument,
  SecurityBalanceDocument,
  SecurityPatientScreenDocument,
  WriteOffDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, TEST_SECRET } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { ConfigError, loadConfig } from '../../src/config';
import { QUERY_LIMITS } from '../../src/graphql/limits';

interface FormattedError {
  message: string;
  path?: (string | number)[];
  locations?: unknown;
  extensions?: Record<string, unknown>;
}
interface Answer {
  status?: number;
  data?: Record<string, unknown> | null;
  errors?: FormattedError[];
}

let server: TestServer;
let manager: Caller;
let patientId: string;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { NODE_ENV: 'development' } });
  manager = await server.caller('BILLING_MANAGER');
  patientId = await newPatient(server, manager);
  await newCharge(server, manager, patientId, [4000, 1000]);
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await server.stop();
});

async function post(target: TestServer, body: string, headers: Record<string, string> = {}, caller: Caller | null = manager): Promise<{ status: number; text: string; contentType: string | null }> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${caller.token}` } : {}), ...headers },
    body,
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

async function overHttp(target: TestServer, caller: Caller, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const { status, text } = await post(target, JSON.stringify({ query, variables }), {}, caller);
  return { status, ...(JSON.parse(text) as Answer) };
}

/** One operation over graphql-ws: the first `next` payload, or the errors of an `error` message. */
function overWs(target: TestServer, caller: Caller, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const client = target.ws(caller);
  clients.push(client);
  return new Promise<Answer>((resolve, reject) => {
    let first: Answer | null = null;
    const timer = setTimeout(() => reject(new Error('no answer over WebSocket')), 10_000);
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          first ??= { data: (result.data ?? undefined) as Answer['data'], errors: result.errors as unknown as FormattedError[] | undefined };
          if (query.trimStart().startsWith('subscription')) {
            clearTimeout(timer);
            resolve(first);
          }
        },
        error: (error) => {
          clearTimeout(timer);
          if (Array.isArray(error)) resolve({ errors: error as FormattedError[] });
          else reject(new Error(`socket closed: ${JSON.stringify(error)}`));
        },
        complete: () => {
          clearTimeout(timer);
          if (first) resolve(first);
          else reject(new Error('completed without an answer'));
        },
      },
    );
  });
}

const codes = (answer: Answer) => answer.errors?.map((e) => e.extensions?.code);
const messages = (answer: Answer) => answer.errors?.map((e) => e.message);

/** Both transports refuse the operation with this code and the same messages. */
async function refusedOnBoth(query: string, code: string, message: RegExp, variables: Record<string, unknown> = {}, target = server, caller = manager) {
  const http = await overHttp(target, caller, query, variables);
  const ws = await overWs(target, caller, query, variables);
  expect(http.status).toBe(400);
  expect(http.data).toBeUndefined();
  expect(codes(http)?.[0]).toBe(code);
  expect(messages(http)?.[0]).toMatch(message);
  expect({ codes: codes(ws), messages: messages(ws) }).toEqual({ codes: codes(http), messages: messages(http) });
  return { http, ws };
}

async function acceptedOnBoth(query: string, variables: Record<string, unknown> = {}) {
  const http = await overHttp(server, manager, query, variables);
  const ws = await overWs(server, manager, query, variables);
  expect({ status: http.status, errors: http.errors }).toEqual({ status: 200, errors: undefined });
  expect(ws.errors).toBeUndefined();
  expect(ws.data).toEqual(http.data);
  return http;
}

// ---------------------------------------------------------------------------------------------------------------
describe('query limits, the same on HTTP and WebSocket', () => {
  /** patient → charges → edges → node → lines → write-offs → line → charge → patient → payments → …: `levels` nested selection sets, ending in __typename. */
  function nested(levels: number): string {
    const chain = ['patient(id: $id)', 'charges(first: 1)', 'edges', 'node', 'responsibilities', 'writeOffs', 'responsibility', 'charge', 'patient', 'payments(first: 1)', 'edges', 'node', 'allocations'];
    let query = '__typename';
    for (let level = levels - 1; level >= 0; level--) query = `${chain[level]} { ${query} }`;
    return `query Deep($id: ID!) { ${query} }`;
  }

  test(`depth: ${QUERY_LIMITS.maxDepth} levels answer, ${QUERY_LIMITS.maxDepth + 1} are refused`, async () => {
    expect(QUERY_LIMITS.maxDepth).toBe(12);
    const ok = await acceptedOnBoth(nested(12), { id: patientId });
    expect(ok.data?.patient).toBeTruthy();
    await refusedOnBoth(nested(13), 'GRAPHQL_VALIDATION_FAILED', /nested too deeply: at most 12 levels/, { id: patientId });
    // Fragments and inline fragments count too (and a fragment cycle is refused, not followed forever).
    const viaFragments = `query Deep($id: ID!) { patient(id: $id) { ...P } } fragment P on Patient { charges(first: 1) { edges { node { responsibilities { ... on Responsibility { writeOffs { responsibility { charge { patient { payments(first: 1) { edges { node { allocations { responsibility { id } } } } } } } } } } } } } } }`;
    await refusedOnBoth(viaFragments, 'GRAPHQL_VALIDATION_FAILED', /nested too deeply/, { id: patientId });
  });

  test(`aliases: ${QUERY_LIMITS.maxAliases} answer, ${QUERY_LIMITS.maxAliases + 1} are refused`, async () => {
    expect(QUERY_LIMITS.maxAliases).toBe(15);
    const aliases = (n: number) => `query Aliases { ${Array.from({ length: n }, (_, i) => `a${i}: writeOffReasons { code }`).join(' ')} }`;
    const ok = await acceptedOnBoth(aliases(15));
    expect(Object.keys(ok.data ?? {})).toHaveLength(15);
    await refusedOnBoth(aliases(16), 'GRAPHQL_VALIDATION_FAILED', /too many aliases: at most 15/);
    // Aliases hidden in a fragment count as well.
    const inFragment = `query Aliases($id: ID!) { patient(id: $id) { ...F } } fragment F on Patient { ${Array.from({ length: 16 }, (_, i) => `b${i}: id`).join(' ')} }`;
    await refusedOnBoth(inFragment, 'GRAPHQL_VALIDATION_FAILED', /too many aliases/, { id: patientId });
  });

  test(`cost: the deepest screen query answers, nesting pages inside pages (cost > ${QUERY_LIMITS.maxCost}) is refused`, async () => {
    expect(QUERY_LIMITS.maxCost).toBe(1_000_000);
    // The real screen: patient → 100 charges → lines → write-offs → availability, and 100 payments.
    const screen = await acceptedOnBoth(print(SecurityPatientScreenDocument), { id: patientId });
    expect((screen.data?.patient as { id: string }).id).toBe(patientId);
    const pagesInPages = 'query Costly { patients(first: 100) { edges { node { charges(first: 100) { edges { node { id responsibilities { id writeOffs { id } } } } } } } } }';
    const { http } = await refusedOnBoth(pagesInPages, 'GRAPHQL_VALIDATION_FAILED', /asks for too much at once \(cost \d+, limit 1000000\)/);
    expect(Number(/cost (\d+)/.exec(http.errors![0].message)![1])).toBeGreaterThan(1_000_000);
    // A variable page size is assumed to be the largest page.
    await refusedOnBoth(pagesInPages.replace('query Costly', 'query Costly($n: Int)').replace(/first: 100/g, 'first: $n'), 'GRAPHQL_VALIDATION_FAILED', /too much at once/, { n: 1 });
  });

  test(`tokens: ${QUERY_LIMITS.maxTokens} at most; parsing stops beyond`, async () => {
    expect(QUERY_LIMITS.maxTokens).toBe(5000);
    // `query Many { writeOffReasons { code … } }` has 7 tokens besides the repeated directive (7 tokens each).
    const many = (directives: number) => `query Many { writeOffReasons { code ${'@include(if: true) '.repeat(directives)}} }`;
    // 4,998 tokens parse (and are then refused by validation: one @include per field), 5,005 do not.
    const parsed = await refusedOnBoth(many(713), 'GRAPHQL_VALIDATION_FAILED', /directive "@include" can only be used once/);
    expect(JSON.stringify(parsed.http)).not.toMatch(/tokens/);
    await refusedOnBoth(many(714), 'GRAPHQL_PARSE_FAILED', /more tha[nt] 5000 tokens/ /* graphql-js spells it 'that' */);
    // Parsing stops at the limit: 20,000 tokens cost no more than 5,001 (kept under the 64 KiB WebSocket frame).
    await refusedOnBoth(`query Many { ${'a '.repeat(20_000)}}`, 'GRAPHQL_PARSE_FAILED', /more tha[nt] 5000 tokens/);
  });

  test('documents whose validation alone would be costly are refused before validating, quickly', async () => {
    expect(QUERY_LIMITS.maxSameResponseName).toBe(10);
    const started = Date.now();
    // One field repeated in a selection set (graphql-js compares the repeats pairwise: minutes of CPU for a few
    // thousand), directly, through inline fragments, through fragment spreads, and as repeated parents.
    const repeated = [
      `query R { writeOffReasons { ${'code '.repeat(11)}} }`,
      `query R { writeOffReasons { ${'... on WriteOffReasonOption { code } '.repeat(11)}} }`,
      `query R { writeOffReasons { code ...A ...B } } fragment A on WriteOffReasonOption { ${'code '.repeat(5)}} fragment B on WriteOffReasonOption { ${'code '.repeat(5)}}`,
      `query R { ${'writeOffReasons { code } '.repeat(11)}}`,
    ];
    for (const query of repeated) await refusedOnBoth(query, 'GRAPHQL_VALIDATION_FAILED', /repeats a field too often in one selection: at most 10 times/);
    // Ten are fine (and the same fragment spread twice counts once).
    await acceptedOnBoth(`query R { writeOffReasons { ${'code '.repeat(10)}} }`);
    await acceptedOnBoth(`query R { writeOffReasons { code ...A ...A } } fragment A on WriteOffReasonOption { ${'code '.repeat(9)}}`);
    // Too many fields in all (a few thousand repeats are refused on that count first).
    await refusedOnBoth(`query R { writeOffReasons { ${'code '.repeat(4_900)}} }`, 'GRAPHQL_VALIDATION_FAILED', /too many fields: at most 500/);
    await refusedOnBoth(`query R { ${Array.from({ length: 126 }, (_, i) => `a${i}: writeOffReasons { code label requiresCustomReason }`).join(' ')} }`, 'GRAPHQL_VALIDATION_FAILED', /too many fields: at most 500/);
    // Fragments that spread each other twice per level: 2^40 expansions if followed naively; costed once each here.
    const doubling = Array.from({ length: 40 }, (_, i) => `fragment F${i} on WriteOffReasonOption { ${i === 39 ? 'code' : `...F${i + 1} ...F${i + 1}`} }`).join(' ');
    await refusedOnBoth(`query D { writeOffReasons { ...F0 } } ${doubling}`, 'GRAPHQL_VALIDATION_FAILED', /too much at once/);
    // A fragment cycle is a validation error, not a crash (it used to overflow the stack: a 500 on HTTP, a closed socket).
    const cycle = 'query Cycle { patients { edges { node { ...A } } } } fragment A on Patient { id ...B } fragment B on Patient { id ...A }';
    await refusedOnBoth(cycle, 'GRAPHQL_VALIDATION_FAILED', /Cannot spread fragment "A" within itself/);
    // All of the above in well under the time one of them used to take.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await overHttp(server, manager, print(SecurityBalanceDocument), { id: patientId })).errors).toBeUndefined();
  });

  test('subscriptions are held to the same limits as queries', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `v${i}: version`).join(' ');
    const ws = await overWs(server, manager, `subscription Watch($id: ID!) { patientBalanceChanged(patientId: $id) { ${aliases} } }`, { id: patientId });
    expect(codes(ws)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(messages(ws)?.[0]).toMatch(/too many aliases/);
    const within = await overWs(server, manager, print(PatientBalanceChangedDocument), { patientId });
    expect(within.errors).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('request size, batching and CSRF', () => {
  test('a body over 1 MiB is refused with 413 before anything runs; just under 1 MiB is answered', async () => {
    const query = print(SecurityBalanceDocument);
    const body = (padding: number) => JSON.stringify({ query, variables: { id: patientId, padding: 'x'.repeat(padding) } });
    const overhead = Buffer.byteLength(body(0));
    const under = await post(server, body(1024 * 1024 - overhead - 16));
    expect(under.status).toBe(200);
    expect(JSON.parse(under.text).data.patient.id).toBe(patientId);
    const over = await post(server, body(1024 * 1024 - overhead + 1));
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text)).toEqual({ errors: [{ message: 'The request body is larger than 1048576 bytes.', extensions: { code: 'BAD_REQUEST' } }] });
    // Even without a token, the body limit answers first and says nothing else.
    expect((await post(server, body(2 * 1024 * 1024), {}, null)).status).toBe(413);
  });

  test('a WebSocket frame over 64 KiB closes the socket (1009) instead of being read', async () => {
    const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${manager.token}`, padding: 'x'.repeat(65 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  test('a JSON array (batched operations) is refused as a whole, and none of it runs', async () => {
    const lastName = `Batch${crypto.randomBytes(4).toString('hex')}`;
    const create = { query: print(CreatePatientDocument), variables: { input: { firstName: 'Bat', lastName } } };
    const answer = await post(server, JSON.stringify([create, create]));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ errors: [{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }] });
    const single = await post(server, JSON.stringify([create]));
    expect(single.status).toBe(400);
    const found = await overHttp(server, manager, 'query Find($s: String) { patients(search: $s) { edges { node { id } } } }', { s: lastName });
    expect(found.data).toEqual({ patients: { edges: [] } });
    // Over WebSocket an array is not a graphql-ws message at all: the socket closes with 4400.
    const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${manager.token}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify([{ id: '1', type: 'subscribe', payload: create }]));
    expect(await closed).toBe(4400);
  });

  test('CSRF prevention: simple content types and GETs without a preflight header are refused with 400, and nothing runs', async () => {
    const lastName = `Csrf${crypto.randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({ query: print(CreatePatientDocument), variables: { input: { firstName: 'Cross', lastName } } });
    for (const contentType of ['text/plain', 'text/plain;charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await post(server, body, { 'content-type': contentType });
      expect({ contentType, status: answer.status }).toEqual({ contentType, status: 400 });
      expect(answer.text).toMatch(/Cross-Site Request Forgery/);
    }
    // No content type at all is refused too.
    const bare = await fetch(server.url, { method: 'POST', headers: { authorization: `Bearer ${manager.token}` }, body: new Blob([body]) });
    expect(bare.status).toBe(400);
    const found = await overHttp(server, manager, 'query Find($s: String) { patients(search: $s) { edges { node { id } } } }', { s: lastName });
    expect(found.data).toEqual({ patients: { edges: [] } });

    const url = `${server.url}?query=${encodeURIComponent('query Reasons { writeOffReasons { code } }')}`;
    const simpleGet = await fetch(url, { headers: { authorization: `Bearer ${manager.token}` } });
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/Cross-Site Request Forgery/);
    // A client that can set custom headers (so a preflight happens) may use GET for queries, never for mutations.
    const preflighted = await fetch(url, { headers: { authorization: `Bearer ${manager.token}`, 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    const mutationUrl = `${server.url}?query=${encodeURIComponent(`mutation { createPatient(input: { firstName: "G", lastName: "${lastName}" }) { patient { id } } }`)}`;
    const getMutation = await fetch(mutationUrl, { headers: { authorization: `Bearer ${manager.token}`, 'apollo-require-preflight': 'true' } });
    expect(getMutation.status).toBe(405);
    expect((await overHttp(server, manager, 'query Find($s: String) { patients(search: $s) { edges { node { id } } } }', { s: lastName })).data).toEqual({ patients: { edges: [] } });
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('production', () => {
  let production: TestServer;
  let caller: Caller;
  beforeAll(async () => {
    production = await startTestServer({ env: { NODE_ENV: 'production' } });
    caller = await production.caller('ADMIN');
  });
  afterAll(() => production.stop());

  test('needs a real secret: none, or one shorter than 32 bytes, does not start', () => {
    const base = { NODE_ENV: 'production', DATA_DIR: '/nonexistent' };
    expect(() => loadConfig({ ...base })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, AUTH_JWT_SECRET: 'x'.repeat(31) })).toThrow(/at least 32 bytes/);
    expect(loadConfig({ ...base, AUTH_JWT_SECRET: TEST_SECRET }).isProduction).toBe(true);
  });

  test('introspection is off on HTTP and WebSocket (and on in development)', async () => {
    for (const query of ['query I { __schema { queryType { name } } }', 'query T { __type(name: "Patient") { fields { name } } }']) {
      // Apollo adds its own no-introspection rule over HTTP, so HTTP lists one more message than WebSocket.
      const http = await overHttp(production, caller, query);
      const ws = await overWs(production, caller, query);
      for (const answer of [http, ws]) {
        expect(answer.data).toBeUndefined();
        expect(answer.errors?.length).toBeGreaterThan(0);
        expect(new Set(codes(answer))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
        for (const message of messages(answer)!) expect(message).toMatch(/introspection/i);
      }
      expect(http.status).toBe(400);
      const dev = await overHttp(server, manager, query);
      expect(dev.errors).toBeUndefined();
      expect(dev.data).toBeTruthy();
    }
    // __typename is not introspection.
    expect((await overHttp(production, caller, 'query N { __typename }')).data).toEqual({ __typename: 'Query' });
  });

  test('no "Did you mean" schema hints in error messages on either transport (development keeps them)', async () => {
    const typo = 'query Typo { patiens { edges { cursor } } }';
    const { http, ws } = await refusedOnBoth(typo, 'GRAPHQL_VALIDATION_FAILED', /^Cannot query field "patiens" on type "Query"\.$/, {}, production, caller);
    for (const answer of [http, ws]) expect(JSON.stringify(answer)).not.toMatch(/Did you mean|"patients"|"patient"/);
    const badEnum = 'mutation W($r: WriteOffReason!) { writeOff(input: { responsibilityId: "x", amountCents: 1, reason: $r }) { userErrors { code } } }';
    const enumAnswer = await overHttp(production, caller, badEnum, { r: 'BAD_DEBTT' });
    expect(codes(enumAnswer)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(enumAnswer)).not.toMatch(/Did you mean|BAD_DEBT"/);
    const enumWs = await overWs(production, caller, badEnum, { r: 'BAD_DEBTT' });
    expect(enumWs.errors).toEqual(enumAnswer.errors);
    // The same typo in development gets the hint, so the check above can tell the difference.
    expect(messages(await overHttp(server, manager, typo))?.[0]).toMatch(/Did you mean/);
  });

  test('the landing page is off (development serves it)', async () => {
    for (const headers of [{ accept: 'text/html' }, { accept: 'text/html', 'apollo-require-preflight': 'true' }] as Record<string, string>[]) {
      const prod = await fetch(production.url, { headers });
      const text = await prod.text();
      expect(prod.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toMatch(/<html|<!DOCTYPE|apollographql|embeddable-sandbox/i);
    }
    const dev = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(dev.status).toBe(200);
    expect(await dev.text()).toMatch(/<!DOCTYPE html>/i);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('errors are masked the same way on both transports', () => {
  const SECRET_DETAIL = 'SQLITE_ERROR: no such column: canary_column in SELECT * FROM patients WHERE mrn = ? at /work/main/src/read-model/ledger-reader.ts:142';
  const GENERIC = 'Something went wrong on our side. Nothing was changed that you were not told about; try again.';

  test('an unexpected failure is INTERNAL_SERVER_ERROR with a generic message and no stack, SQL or path, over HTTP and WebSocket', async () => {
    const reader = server.instances[0].services.reader;
    const original = { patients: reader.patients, balances: reader.balances };
    const fail = async (): Promise<never> => {
      throw new Error(SECRET_DETAIL);
    };
    reader.patients = fail;
    reader.balances = fail;
    try {
      const query = print(SecurityBalanceDocument);
      const http = await overHttp(server, manager, query, { id: patientId });
      expect(http.status).toBe(200);
      expect(http.errors).toEqual([{ message: GENERIC, path: ['patient'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      const ws = await overWs(server, manager, query, { id: patientId });
      expect(ws).toEqual({ data: http.data, errors: http.errors });
      const subscription = await overWs(server, manager, print(PatientBalanceChangedDocument), { patientId });
      expect(subscription.errors?.map((e) => [e.message, e.extensions])).toEqual([[GENERIC, { code: 'INTERNAL_SERVER_ERROR' }]]);
      for (const answer of [http, ws, subscription]) expect(JSON.stringify(answer)).not.toMatch(/SQLITE|SELECT|canary|ledger-reader|\.ts:|stack|exception/i);
    } finally {
      Object.assign(reader, original);
    }
    // The server logged what failed (its type and our stack frames) for the operator, but not the message's text.
    const logged = server.logs.filter((line) => line.includes('unexpected_error'));
    expect(logged.length).toBeGreaterThanOrEqual(3);
    for (const line of logged) expect(line).not.toMatch(/canary_column|SELECT \*/);
    expect((await overHttp(server, manager, print(SecurityBalanceDocument), { id: patientId })).errors).toBeUndefined();
  });

  test('a subscription sent over HTTP is refused as a bad request pointing to the WebSocket (it used to fail as INTERNAL_SERVER_ERROR)', async () => {
    for (const query of ['subscription Live { practiceBalanceChanged { version } }', `subscription Live { patientBalanceChanged(patientId: "${patientId}") { version } }`]) {
      const answer = await overHttp(server, manager, query);
      expect({ query, status: answer.status, errors: answer.errors }).toEqual({
        query,
        status: 400,
        errors: [{ message: 'Subscriptions are served over WebSocket (graphql-ws) at this same URL, not over HTTP.', extensions: { code: 'BAD_REQUEST' } }],
      });
    }
    // Its variables are still checked first, as over WebSocket.
    const badVariable = await overHttp(server, manager, 'subscription Live($p: ID!) { patientBalanceChanged(patientId: $p) { version } }', { p: { $gt: '' } });
    expect(codes(badVariable)).toEqual(['BAD_USER_INPUT']);
  });

  test('expected errors read the same on both transports: parse, validation, variables, authorization', async () => {
    const viewer = await server.caller('VIEWER');
    const cases: [Caller, string, Record<string, unknown>][] = [
      [manager, 'query Broken { patient(id: ', {}],
      [manager, 'query Unknown { nope }', {}],
      [manager, 'query V($id: ID!) { patient(id: $id) { id } }', { id: { $gt: '' } }],
      [manager, 'query V($id: ID!) { patient(id: $id) { id } }', {}],
      [manager, 'mutation W($a: Int!) { writeOff(input: { responsibilityId: "x", amountCents: $a, reason: SMALL_BALANCE }) { userErrors { code } } }', { a: 10.5 }],
      [manager, 'mutation W($a: Int!) { writeOff(input: { responsibilityId: "x", amountCents: $a, reason: SMALL_BALANCE }) { userErrors { code } } }', { a: 2 ** 31 }],
      [viewer, print(WriteOffDocument), { input: { responsibilityId: 'x', amountCents: 1, reason: 'SMALL_BALANCE' } }],
    ];
    for (const [caller, query, variables] of cases) {
      const http = await overHttp(server, caller, query, variables);
      const ws = await overWs(server, caller, query, variables);
      expect(http.errors?.length).toBeGreaterThan(0);
      expect(codes(http)).not.toContain('INTERNAL_SERVER_ERROR');
      expect({ query, errors: ws.errors, data: ws.data ?? null }).toEqual({ query, errors: http.errors, data: http.data ?? null });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('per-caller mutation rate limit', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { MUTATION_RATE_LIMIT: '2' } });
  });
  afterAll(() => limited.stop());

  test('2 per second with bursts of 10, one bucket per caller across HTTP and WebSocket; RATE_LIMITED changes nothing', async () => {
    const desk = await limited.caller('FRONT_DESK', limited.practice, 'desk-burst');
    const writer = await limited.caller('ADMIN', limited.practice, 'setup');
    const patient = await newPatient(limited, writer);
    const { lineIds } = await newCharge(limited, writer, patient, [100_000]);
    const writeOff = { input: { responsibilityId: lineIds[0], amountCents: 1, reason: 'SMALL_BALANCE' as const } };
    const version = async () => (await limited.ok(writer, SecurityBalanceDocument, { id: patient })).patient!.balance.version;

    // Five seconds' worth at once, half over each transport: the bucket starts full, so all ten are accepted.
    const started = Date.now();
    const burst = await Promise.all([
      ...Array.from({ length: 5 }, () => limited.gql(desk, WriteOffDocument, writeOff).then((r) => ({ errors: r.errors as FormattedError[] | undefined }))),
      ...Array.from({ length: 5 }, () => overWs(limited, desk, print(WriteOffDocument), writeOff)),
    ]);
    expect(burst.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    // Then WebSocket only, until refused. Had each transport its own bucket, WebSocket would still hold 5 tokens; one
    // bucket refills only 2 per second, so at most what has trickled in since the burst started is accepted.
    let extra = 0;
    let refused: Answer | null = null;
    while (!refused && extra < 20) {
      const answer = await overWs(limited, desk, print(WriteOffDocument), writeOff);
      if (answer.errors) refused = answer;
      else extra += 1;
    }
    expect(extra).toBeLessThanOrEqual(Math.floor(((Date.now() - started) / 1000) * 2) + 1);
    expect(extra).toBeLessThan(5);
    expect(codes(refused!)).toEqual(['RATE_LIMITED']);
    expect(messages(refused!)?.[0]).toMatch(/^Too many changes too quickly: at most 2 per second\. Try again in \d+ ms\.$/);
    // Decided before the document runs: the whole document is refused, so no field has a path.
    expect(refused!.errors![0].path).toBeUndefined();

    // Over HTTP, the same clear error; and a refused mutation changes nothing.
    const before = await version();
    let http = await limited.gql(desk, WriteOffDocument, writeOff);
    while (!http.errors) http = await limited.gql(desk, WriteOffDocument, writeOff); // a token may have trickled in
    const after = await version();
    expect(http.status).toBe(200);
    expect(http.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(http.data).toBeUndefined(); // refused before execution: a request error, with no `data` at all
    expect(after).toBeLessThanOrEqual(before + 1);
    expect(await version()).toBe(after);

    // Reads have a limit of their own, and another caller of the same practice has a bucket of its own.
    for (let i = 0; i < 5; i++) expect((await limited.gql(desk, SecurityBalanceDocument, { id: patient })).errors).toBeUndefined();
    const colleague = await limited.caller('FRONT_DESK', limited.practice, 'desk-other');
    expect((await limited.gql(colleague, WriteOffDocument, writeOff)).errors).toBeUndefined();
    expect(await version()).toBe(after + 1);

    // Tokens come back at 2 per second.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const again = await limited.gql(desk, WriteOffDocument, writeOff);
    expect(again.errors).toBeUndefined();
    expect(again.data?.writeOff.userErrors).toEqual([]);
  });
});
