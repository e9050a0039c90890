/**
 * The protocol loop on a real `ws` server and real sockets: graphql-ws's own client for the happy paths, raw sockets
 * for what a client library never sends. The hooks here are the loop's inputs, not the server's policy (that is tested
 * end to end in test/e2e/subscriptions, fuzz and shared-subscriptions).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionResult, GraphQLError } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { waitFor } from '../../test/support/wait';
import { GraphQLTransportWsServer, OperationEntry, OperationOutcome, ProtocolHooks, ProtocolOptions, Stoppable, WsConnection } from './graphql-transport-ws';

interface Entry extends OperationEntry {
  id: string;
}

/** A stream the test pushes values into; `stopped` once the loop returned it. */
function pushStream() {
  const values: unknown[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let failure: Error | null = null;
  const state = { stopped: false };
  const stream: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        if (failure) throw failure;
        if (values.length) return { value: { data: values.shift() as ExecutionResult['data'] }, done: false };
        if (ended || state.stopped) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return() {
      state.stopped = true;
      wake?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  return {
    stream,
    state,
    push: (value: unknown) => (values.push(value), poke()),
    end: () => ((ended = true), poke()),
    fail: (error: Error) => ((failure = error), poke()),
  };
}

let httpServer: http.Server;
let wsServer: WebSocketServer;
let server: GraphQLTransportWsServer<{ user: string }, Entry>;
let url: string;
const events: string[] = [];
const streams = new Map<string, ReturnType<typeof pushStream>>();
const deliveries = new Map<string, { connection: WsConnection<{ user: string }, Entry>; stopped: boolean }>();
let connectDelayMs = 0;

const hooks: ProtocolHooks<{ user: string }, Entry> = {
  connect: async (_connection, params) => {
    if (connectDelayMs) await new Promise((resolve) => setTimeout(resolve, connectDelayMs));
    events.push(`connect:${String(params?.user)}`);
    return params?.user === 'ok' ? { user: 'ok' } : null;
  },
  begin: (_connection, id) => ({ id, handle: null }),
  start: async (connection, id, payload): Promise<OperationOutcome> => {
    if (payload.query === 'refuse') return { errors: [new GraphQLError('refused', { extensions: { code: 'FORBIDDEN' } })] };
    if (payload.query === 'query') return { result: { data: { answer: 42 } } };
    if (payload.query === 'delivery') {
      const delivery = { connection, stopped: false };
      deliveries.set(id, delivery);
      return { delivery: { stop: () => void (delivery.stopped = true) } satisfies Stoppable };
    }
    const stream = pushStream();
    streams.set(id, stream);
    return { stream: stream.stream };
  },
  next: (_connection, _entry, result) => result as never,
  errors: (_connection, _entry, errors) => errors.map((error) => ({ message: error.message, extensions: error.extensions })),
  ended: (_connection, id) => void events.push(`ended:${id}`),
  closed: (connection) => void events.push(`closed:${connection.state?.user ?? 'none'}`),
  failed: (error) => void events.push(`failed:${String(error)}`),
};

async function start(options: ProtocolOptions): Promise<void> {
  httpServer = http.createServer();
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  server = new GraphQLTransportWsServer(wsServer, hooks, options);
  url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`;
}

afterEach(async () => {
  await server.dispose();
  await new Promise((resolve) => httpServer.close(resolve));
  events.length = 0;
  streams.clear();
  deliveries.clear();
  connectDelayMs = 0;
});

/** A raw socket, with every message and the close code it gets. */
function raw(protocol: string | null = 'graphql-transport-ws', options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(url, protocol ? [protocol] : [], options);
  const received: Record<string, unknown>[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  socket.on('message', (data) => received.push(JSON.parse(String(data))));
  socket.on('error', () => undefined);
  const opened = new Promise<void>((resolve) => socket.once('open', () => resolve()));
  const send = (message: unknown) => socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  return { socket, received, closed, opened, send };
}

describe('the graphql-transport-ws loop', () => {
  beforeEach(() => start({ connectionInitWaitTimeout: 3000, keepAliveMs: 0 }));

  test("graphql-ws's own client: a stream's results, then complete; a query's one result; a refusal as an error message", async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { user: 'ok' }, retryAttempts: 0 });
    try {
      const got: unknown[] = [];
      const done = new Promise<void>((resolve, reject) => client.subscribe({ query: 'stream' }, { next: (v) => got.push(v.data), error: reject, complete: resolve }));
      await waitFor(() => streams.size === 1, () => 'streams.size === 1');
      const [stream] = streams.values();
      stream.push(1);
      stream.push(2);
      stream.end();
      await done;
      expect(got).toEqual([1, 2]);
      expect(await new Promise((resolve, reject) => client.subscribe({ query: 'query' }, { next: (v) => resolve(v.data), error: reject, complete: () => undefined }))).toEqual({ answer: 42 });
      const refusal = await new Promise((resolve) => client.subscribe({ query: 'refuse' }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }));
      expect(refusal).toEqual([{ message: 'refused', extensions: { code: 'FORBIDDEN' } }]);
      expect(events.filter((e) => e.startsWith('ended')).length).toBe(3);
    } finally {
      await client.dispose();
    }
  });

  test("a stream that throws ends with an error message; the client's complete stops a stream and a delivery, each ended once", async () => {
    const { socket, received, opened, send } = raw();
    await opened;
    send({ type: 'connection_init', payload: { user: 'ok' } });
    await waitFor(() => received.length === 1, () => 'received.length === 1');
    expect(received[0]).toEqual({ type: 'connection_ack' });
    send({ id: 'a', type: 'subscribe', payload: { query: 'stream' } });
    send({ id: 'b', type: 'subscribe', payload: { query: 'stream' } });
    send({ id: 'c', type: 'subscribe', payload: { query: 'delivery' } });
    await waitFor(() => streams.size === 2 && deliveries.size === 1, () => 'streams.size === 2 && deliveries.size === 1');
    streams.get('a')!.fail(new Error('boom'));
    await waitFor(() => received.length === 2, () => 'received.length === 2');
    expect(received[1]).toEqual({ id: 'a', type: 'error', payload: [{ message: 'boom', extensions: {} }] });
    send({ id: 'b', type: 'complete' });
    send({ id: 'c', type: 'complete' });
    await waitFor(() => streams.get('b')!.state.stopped && deliveries.get('c')!.stopped, () => 'streams.get(b)!.state.stopped && deliveries.get(c)!.stopped');
    await waitFor(() => events.filter((e) => e.startsWith('ended')).length === 3, () => 'events.filter((e) => e.startsWith(ended)).length === 3');
    expect(events.filter((e) => e.startsWith('ended')).sort()).toEqual(['ended:a', 'ended:b', 'ended:c']);
    // The client completed b and c itself: it is not told again.
    expect(received.length).toBe(2);
    // A delivery ends itself with complete (or an error message); a second end of the same id does nothing.
    send({ id: 'd', type: 'subscribe', payload: { query: 'delivery' } });
    await waitFor(() => deliveries.has('d'), () => 'deliveries.has(d)');
    deliveries.get('d')!.connection.end('d');
    deliveries.get('d')!.connection.end('d', [new GraphQLError('late')]);
    await waitFor(() => received.length === 3, () => 'received.length === 3');
    expect(received[2]).toEqual({ id: 'd', type: 'complete' });
    socket.close();
  });

  test('ping is answered with pong and its payload; closing a socket stops what runs on it, then closes the connection once', async () => {
    const { socket, received, opened, send, closed } = raw();
    await opened;
    send({ type: 'ping', payload: { n: 1 } });
    send({ type: 'pong' });
    send({ type: 'connection_init', payload: { user: 'ok' } });
    await waitFor(() => received.length === 2, () => 'the ack');
    send({ type: 'ping' });
    await waitFor(() => received.length === 3, () => 'received.length === 3');
    expect(received).toEqual([{ type: 'pong', payload: { n: 1 } }, { type: 'connection_ack' }, { type: 'pong' }]);
    send({ id: 'x', type: 'subscribe', payload: { query: 'stream' } });
    send({ id: 'y', type: 'subscribe', payload: { query: 'delivery' } });
    await waitFor(() => streams.size === 1 && deliveries.size === 1, () => 'streams.size === 1 && deliveries.size === 1');
    socket.close(1000);
    await closed;
    await waitFor(() => events.includes('closed:ok'), () => 'events.includes(closed:ok)');
    expect(streams.get('x')!.state.stopped && deliveries.get('y')!.stopped).toBe(true);
    expect(events.filter((e) => e.startsWith('ended') || e.startsWith('closed')).sort()).toEqual(['closed:ok', 'ended:x', 'ended:y']);
  });

  test('a client that leaves while it is being authenticated is closed once authentication settles (what connect took is given back)', async () => {
    connectDelayMs = 200;
    const { socket, opened, send, closed } = raw();
    await opened;
    send({ type: 'connection_init', payload: { user: 'ok' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.close(1000);
    await closed;
    expect(events).toEqual([]);
    await waitFor(() => events.length === 2, () => 'events.length === 2');
    expect(events).toEqual(['connect:ok', 'closed:ok']);
  });

  test.each([
    { name: 'a malformed message', messages: [{ type: 'subscribe' }], code: 4400 },
    { name: 'a message only a server sends', messages: [{ type: 'connection_ack' }], code: 4400 },
    { name: 'text that is not JSON', messages: ['{'], code: 4400 },
    { name: 'subscribe before connection_ack', messages: [{ id: '1', type: 'subscribe', payload: { query: 'stream' } }], code: 4401 },
    { name: 'a refused connection_init', messages: [{ type: 'connection_init', payload: { user: 'nobody' } }], code: 4403 },
    { name: 'a second connection_init', messages: [{ type: 'connection_init', payload: { user: 'ok' } }, { type: 'connection_init', payload: { user: 'ok' } }], code: 4429 },
  ])('$name closes the socket with $code', async ({ messages, code }) => {
    const { opened, send, closed } = raw();
    await opened;
    for (const message of messages) {
      send(message);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await closed).toBe(code);
  });

  test('a reused id is 4409; a socket without the subprotocol is 4406; the server going away is 1001', async () => {
    const a = raw();
    await a.opened;
    a.send({ type: 'connection_init', payload: { user: 'ok' } });
    await waitFor(() => a.received.length === 1, () => 'the ack');
    a.send({ id: 'same', type: 'subscribe', payload: { query: 'stream' } });
    a.send({ id: 'same', type: 'subscribe', payload: { query: 'stream' } });
    expect(await a.closed).toBe(4409);
    expect(await raw(null).closed).toBe(4406);
    const b = raw();
    await b.opened;
    await server.dispose();
    expect(await b.closed).toBe(1001);
    // afterEach disposes a server of its own.
    await new Promise((resolve) => httpServer.close(resolve));
    await start({ connectionInitWaitTimeout: 3000, keepAliveMs: 0 });
  });
});

describe('timers shared by all connections', () => {
  test('no connection_init in time is 4408; a socket that answers pings stays, one that does not is cut', async () => {
    await start({ connectionInitWaitTimeout: 150, keepAliveMs: 100 });
    const silent = raw();
    await silent.opened;
    expect(await silent.closed).toBe(4408);
    const answering = raw();
    const deaf = raw('graphql-transport-ws', { autoPong: false });
    await Promise.all([answering.opened, deaf.opened]);
    for (const socket of [answering, deaf]) socket.send({ type: 'connection_init', payload: { user: 'ok' } });
    // Cut after one unanswered ping (next round): 1006 to the client, which never saw a close frame.
    expect(await deaf.closed).toBe(1006);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.socket.close();
  });
});
