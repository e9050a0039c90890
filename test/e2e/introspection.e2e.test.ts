/**
 * Frontend tools load the schema from a running server in development: the standard introspection query answers on
 * both transports (its own limits: see MAX_INTROSPECTION_DEPTH), `graphql-codegen` pointed at the server's URL makes
 * exactly the types it makes from schema/schema.graphql, and introspection that would multiply is still refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getIntrospectionQuery, parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Caller, TestServer, startTestServer } from '../harness';

const ROOT = path.resolve(__dirname, '..', '..');
type Data = Record<string, any>;
const doc = (query: string) => parse(query) as TypedDocumentNode<Data, Record<string, unknown>>;

let server: TestServer;
let viewer: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: { NODE_ENV: 'development' } });
  viewer = await server.caller('VIEWER');
});
afterAll(() => server.stop());

// What GraphiQL, Apollo Sandbox and graphql-codegen send (the last with every option on).
const STANDARD_QUERIES = {
  default: getIntrospectionQuery(),
  'every option': getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
};

test.each(Object.keys(STANDARD_QUERIES))('the standard introspection query (%s) answers over HTTP', async (name) => {
  const answer = await server.gql(viewer, doc(STANDARD_QUERIES[name as keyof typeof STANDARD_QUERIES]));
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['Patient', 'PatientBalance', 'RefusalCode']));
});

test('the standard introspection query answers over WebSocket', async () => {
  const client = server.ws(viewer);
  try {
    const result = await new Promise<any>((resolve, reject) => {
      client.subscribe({ query: STANDARD_QUERIES.default }, { next: resolve, error: reject, complete: () => undefined });
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.__schema.queryType.name).toBe('Query');
  } finally {
    await client.dispose();
  }
});

test('introspection that re-enters a list is refused, so it cannot multiply the answer', async () => {
  const answer = await server.gql(viewer, doc('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }'));
  // graphql-js's own MaxIntrospectionDepthRule agrees.
  expect(answer.errors?.map((e) => e.message)).toContain('The query goes through __Type.fields again inside itself: select it once and reuse what it returned.');
  expect(answer.data ?? null).toBeNull();
});

test('graphql-codegen pointed at the running server makes the same types as from schema/schema.graphql', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codegen-url-'));
  try {
    const out = path.join(dir, 'graphql.ts');
    const fromUrl = `schema:\n  - ${JSON.stringify(server.url)}:\n      headers:\n        authorization: ${JSON.stringify(`Bearer ${viewer.token}`)}`;
    const config = fs
      .readFileSync(path.join(ROOT, 'codegen.yml'), 'utf8')
      .replace('schema: schema/schema.graphql', fromUrl)
      .replace('test/__generated__/graphql.ts:', `${JSON.stringify(out)}:`);
    expect(config).toContain(server.url);
    fs.writeFileSync(path.join(dir, 'codegen.yml'), config);
    // Asynchronously: the server answering codegen runs in this very process.
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', path.join(dir, 'codegen.yml')], { cwd: ROOT });
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'test', '__generated__', 'graphql.ts'), 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
