/**
 * Holds N live subscribers in one process, apart from the server (forked by the live and scale benchmarks; not run
 * directly). Each subscriber is its own WebSocket connection, unless `perConnection` puts several on one:
 *   graphql  a graphql-ws client subscribed to patientBalanceChanged(patientId) (perConnection subscriptions each)
 *   ws       a plain `ws` socket that receives the baseline's broadcasts
 * Every message's balance version is noted with its receive time; once ALL subscribers have a version, the process
 * reports `delivered { version, first, last }` (times on this process's clock, which the parent calibrates).
 */
import WebSocket from 'ws';
import { createClient, Client } from 'graphql-ws';
import { BALANCE_SUBSCRIPTION, emit, now, serveParent, sleep } from './common';

interface ConnectArgs {
  kind: 'graphql' | 'ws';
  url: string;
  token?: string;
  patientId?: string;
  count: number;
  /** The version a plain ws subscriber starts at (it gets no initial message). */
  baseVersion?: number;
  /** How many connections are opened at once. */
  batch?: number;
  /** graphql only: subscriptions per connection (default 1: each subscriber its own connection). */
  perConnection?: number;
}

let maxVersion = new Float64Array(0);
let subscribers = 0;
let ready = 0;
let errors = 0;
const reached = new Map<number, { count: number; first: number }>();
const closers: (() => void)[] = [];

function received(i: number, version: number, t: number): void {
  const previous = maxVersion[i];
  if (version <= previous) return;
  maxVersion[i] = version;
  if (previous < 0) {
    ready++;
    return;
  }
  // A subscriber that skips a version (a latest-wins queue may) has still seen the newer balance.
  for (let v = previous + 1; v <= version; v++) {
    let r = reached.get(v);
    if (!r) reached.set(v, (r = { count: 0, first: t }));
    if (++r.count === subscribers) {
      emit('delivered', { version: v, first: r.first, last: t });
      reached.delete(v);
    }
  }
}

/** One graphql-ws connection holding the subscribers `first` … `first + count - 1`. */
function openGraphQL(first: number, args: ConnectArgs, count = 1): Promise<void> {
  const client: Client = createClient({
    url: args.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${args.token}` },
    retryAttempts: 0,
    lazy: true,
    keepAlive: 0,
  });
  closers.push(() => void client.dispose());
  return Promise.all(Array.from({ length: count }, (_, k) => subscribeOn(client, first + k, args))).then(() => undefined);
}

function subscribeOn(client: Client, i: number, args: ConnectArgs): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const unsubscribe = client.subscribe<{ patientBalanceChanged: { version: number } }>(
      { query: BALANCE_SUBSCRIPTION, variables: { patientId: args.patientId } },
      {
        next: (value) => {
          const t = now();
          const version = value.data?.patientBalanceChanged.version;
          if (typeof version === 'number') received(i, version, t);
          else errors++;
          settle();
        },
        error: () => {
          errors++;
          settle();
        },
        complete: settle,
      },
    );
    closers.push(unsubscribe);
  });
}

function openWs(i: number, args: ConnectArgs): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(args.url);
    socket.on('open', () => {
      received(i, args.baseVersion ?? 0, now());
      resolve();
    });
    socket.on('message', (data) => {
      const t = now();
      const message = JSON.parse(String(data)) as { payload?: { data?: { patientBalanceChanged?: { version?: number } } } };
      const version = message.payload?.data?.patientBalanceChanged?.version;
      if (typeof version === 'number') received(i, version, t);
      else errors++;
    });
    socket.on('error', () => {
      errors++;
      resolve();
    });
    closers.push(() => socket.terminate());
  });
}

serveParent({
  /** Opens `count` subscribers; resolves once every one is connected and has its starting version. */
  async connect(args: ConnectArgs) {
    maxVersion = new Float64Array(args.count).fill(-1);
    subscribers = args.count;
    ready = 0;
    errors = 0;
    reached.clear();
    const batch = args.batch ?? 50;
    const per = args.kind === 'graphql' ? Math.max(1, args.perConnection ?? 1) : 1;
    const connections = Math.ceil(args.count / per);
    for (let start = 0; start < connections; start += batch) {
      const opening: Promise<void>[] = [];
      for (let c = start; c < Math.min(connections, start + batch); c++) {
        const first = c * per;
        opening.push(args.kind === 'graphql' ? openGraphQL(first, args, Math.min(per, args.count - first)) : openWs(c, args));
      }
      await Promise.all(opening);
    }
    for (let waited = 0; ready < args.count && waited < 10_000; waited += 20) await sleep(20);
    if (ready < args.count) throw new Error(`only ${ready} of ${args.count} subscribers started (${errors} errors)`);
    return { ready, errors };
  },
  /** minVersion: the lowest version any subscriber has (all on the final version when it equals it). */
  status: () => ({ subscribers, ready, errors, pendingVersions: reached.size, minVersion: subscribers ? Math.min(...maxVersion.subarray(0, subscribers)) : NaN }),
  async disconnect() {
    closers.splice(0).forEach((close) => close());
    subscribers = 0;
    reached.clear();
    await sleep(200);
    return true;
  },
});
