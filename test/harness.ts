/**
 * Starts real servers for end-to-end tests: real HTTP and WebSocket on a free port, a real database.
 *
 * Configurations (one suite, several setups, like Vendure's e2e):
 *   default               SQLite file in a temp dir, in-process balance events, one instance
 *   TEST_DB=postgres      a throwaway PostgreSQL database (PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 *   TEST_REDIS_URL=...    balance events through Redis
 *   TEST_INSTANCES=2      two server instances on one database; `instance(i)` picks one
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { startServer, RunningServer } from '../src/server';
import { signToken } from '../src/auth/tokens';
import type { Role } from '../src/auth/roles';
import type { Logger } from '../src/logger';
import { createScratchDatabase } from './scratch-postgres';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-signing';

/** For tests whose load is deliberate (concurrency, fan-out, fuzz): the per-caller limits are tested on their own. */
export const NO_CALLER_LIMITS = { MUTATION_RATE_LIMIT: '0', QUERY_RATE_LIMIT: '0', SUBSCRIPTION_RATE_LIMIT: '0', MAX_CONNECTIONS_PER_CALLER: '0' } as const;

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown>; path?: (string | number)[] }[];
}

export interface Caller {
  token: string;
  practiceId: string;
  role: Role;
  sub: string;
}

export interface TestServer {
  /** Every instance; mutations and subscriptions may go to different ones in the multi-instance setup. */
  instances: RunningServer[];
  url: string;
  practice: string;
  caller(role?: Role, practiceId?: string, sub?: string): Promise<Caller>;
  /** Sends one GraphQL operation over HTTP, like a frontend would. */
  gql<R, V>(caller: Caller | null, document: TypedDocumentNode<R, V>, variables?: V, instance?: number): Promise<GraphQLResponse<R>>;
  /** The same but asserts there is no GraphQL error and returns `data`. */
  ok<R, V>(caller: Caller, document: TypedDocumentNode<R, V>, variables?: V, instance?: number): Promise<R>;
  ws(caller: Caller | { token: string } | null, instance?: number, options?: Partial<Parameters<typeof createClient>[0]>): WsClient;
  /** Lines the server logged (JSON), for tests that read the logs. */
  logs: string[];
  stop(): Promise<void>;
}

/** The environment a test server runs with: its own data folder and database, the test secret, no demo data, the ledger verifier on. */
export function testServerEnv(dir: string, postgresUrl: string | null): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    DATABASE_URL: postgresUrl ?? `sqlite:${path.join(dir, 'ledger.sqlite')}`,
    AUTH_JWT_SECRET: TEST_SECRET,
    SEED_DEMO: 'false',
    // Every test mutation is checked against a rebuild of the patient's ledger from its rows (docs/operations.md §1).
    LEDGER_VERIFY: '1',
  };
}

export async function startTestServer(options: { env?: Record<string, string>; instances?: number } = {}): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-test-'));
  const postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_test') : null;
  const logs: string[] = [];
  const logger: Logger = {
    log(level, event, fields = {}) {
      logs.push(JSON.stringify({ level, event, ...fields }));
    },
  };
  const env: NodeJS.ProcessEnv = {
    ...testServerEnv(dir, postgres?.url ?? null),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...options.env,
  };
  const count = options.instances ?? Number(process.env.TEST_INSTANCES ?? 1);
  const instances: RunningServer[] = [];
  for (let i = 0; i < count; i++) instances.push(await startServer(loadConfig(env, dir), { logger }));
  const practice = `practice-${crypto.randomBytes(4).toString('hex')}`;
  const secret = env.AUTH_JWT_SECRET!;
  const pick = (instance?: number) => instances[(instance ?? 0) % instances.length];

  const server: TestServer = {
    instances,
    url: instances[0].url,
    practice,
    logs,
    async caller(role = 'BILLING_MANAGER', practiceId = practice, sub = `${role.toLowerCase()}-1`) {
      return { token: await signToken(secret, { sub, practiceId, role }), practiceId, role, sub };
    },
    async gql(caller, document, variables, instance) {
      const response = await fetch(pick(instance).url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${caller.token}` } : {}) },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    async ok(caller, document, variables, instance) {
      const result = await server.gql(caller, document, variables, instance);
      if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as never;
    },
    ws(caller, instance, extra = {}) {
      return createClient({
        url: pick(instance).url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: caller ? { authorization: `Bearer ${caller.token}` } : {},
        retryAttempts: 0,
        lazy: true,
        ...extra,
      });
    },
    async stop() {
      await Promise.all(instances.map((i) => i.stop()));
      await postgres?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Collects what a graphql-ws subscription sends until `done` says enough or the time runs out. */
export function collect<T>(client: WsClient, query: string, variables: Record<string, unknown>, done: (items: T[]) => boolean, timeoutMs = 10_000) {
  const items: T[] = [];
  let error: unknown = null;
  let completed = false;
  let stop: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    stop = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.data) items.push(value.data as T);
          if (value.errors) error = value.errors;
          if (done(items)) finish();
        },
        error: (e) => {
          error = e;
          finish();
        },
        complete: () => {
          completed = true;
          finish();
        },
      },
    );
  });
  return {
    items,
    finished,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    unsubscribe: () => stop(),
  };
}
