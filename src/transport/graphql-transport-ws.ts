import { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, Message, MessageType, SubscribePayload, handleProtocols, parseMessage, stringifyMessage } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * The server side of graphql-ws's protocol (graphql-transport-ws: what Apollo Client, urql and graphql-ws's own client
 * speak) on a `ws` server. graphql-ws's server (`useServer`) keeps some twenty closures, three timers and two suspended
 * async frames per connection and subscription: at thousands of idle dashboards that is most of their memory (issue
 * 13). Here a connection is one object, the socket's listeners and the keep-alive are shared by all connections, and
 * a live delivery writes its own frames. What counts as a valid message is still graphql-ws's own definition
 * (`parseMessage`), and the close codes are its `CloseCode`s, so every client sees the protocol it knows.
 *
 * The transport's policy (who may connect, what an operation may do, how errors are masked and logged) is the hooks'.
 */

/** What an operation in flight can be told when the client completes it or the socket closes. */
export interface Stoppable {
  stop(): void;
}

/** One operation in flight, as its hooks keep it: `handle` is set once it runs. */
export interface OperationEntry {
  handle: Stoppable | null;
}

/** How an operation started. */
export type OperationOutcome =
  /** It did not start: one `error` message. */
  | { errors: readonly GraphQLError[] }
  /** A query or mutation: one `next`, then `complete`. */
  | { result: ExecutionResult }
  /** A subscription run by graphql-js: a `next` per result, then `complete` (or `error` if the stream throws). */
  | { stream: AsyncIterableIterator<ExecutionResult> }
  /** A subscription that writes its own frames and calls `connection.end(id)` when its source ends. */
  | { delivery: Stoppable };

export interface ProtocolHooks<State, Entry extends OperationEntry> {
  /** `connection_init`: the connection's state, or null to refuse (4403 unless the hook already closed the socket). */
  connect(connection: WsConnection<State, Entry>, params: Record<string, unknown> | undefined): Promise<State | null>;
  /** A `subscribe` message on an acknowledged connection: what the operation keeps while it runs. */
  begin(connection: WsConnection<State, Entry>, id: string, payload: SubscribePayload): Entry;
  start(connection: WsConnection<State, Entry>, id: string, payload: SubscribePayload, entry: Entry): Promise<OperationOutcome>;
  /** A result about to be sent as `next`. */
  next(connection: WsConnection<State, Entry>, entry: Entry, result: ExecutionResult): FormattedExecutionResult;
  /** Errors about to be sent as `error`. */
  errors(connection: WsConnection<State, Entry>, entry: Entry, errors: readonly GraphQLError[]): GraphQLFormattedError[];
  /** The operation is over, however it ended (once per operation). */
  ended(connection: WsConnection<State, Entry>, id: string, entry: Entry): void;
  /** The socket closed; every operation has ended (once per connection, after `connect` settled). */
  closed(connection: WsConnection<State, Entry>): void;
  /** Something in this module failed that should not have: the socket is closed with 4500. */
  failed(error: unknown): void;
}

export interface ProtocolOptions {
  /** How long a socket may wait before `connection_init` (graphql-ws's default: 3 s). */
  connectionInitWaitTimeout: number;
  /** WebSocket-level ping interval; a socket that has not answered the previous ping by the next is cut (0: off). */
  keepAliveMs: number;
}

/** One socket speaking the protocol. */
export class WsConnection<State, Entry extends OperationEntry> {
  state: State | null = null;
  /** The operations in flight by id (graphql-ws: one id is one operation; a second `subscribe` with it is 4409). */
  readonly operations = new Map<string, Entry>();
  initReceived = false;
  acknowledged = false;
  closed = false;
  /** Whether the last keep-alive ping is still unanswered. */
  awaitingPong = false;
  initTimer: NodeJS.Timeout | null = null;
  /** While `connect` runs, `closed` waits for it (a slot it takes must be given back). */
  authenticating = false;

  constructor(
    readonly socket: WebSocket,
    private readonly server: GraphQLTransportWsServer<State, Entry>,
  ) {}

  /** Sends a message if the socket is still open. */
  send(text: string | Buffer, done?: (error?: Error) => void): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text, done);
    else done?.();
  }

  /** Ends an operation that delivers its own frames: `complete`, or `error` with these errors. */
  end(id: string, errors?: readonly GraphQLError[]): void {
    this.server.finish(this, id, errors);
  }
}

function closeUninitialised(connection: WsConnection<unknown, OperationEntry>): void {
  connection.initTimer = null;
  if (!connection.initReceived) connection.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
}

export class GraphQLTransportWsServer<State, Entry extends OperationEntry> {
  private readonly keepAlive: NodeJS.Timeout | null;
  /** Each socket's connection, for the listeners and the keep-alive that all of them share. */
  private readonly connections = new WeakMap<WebSocket, WsConnection<State, Entry>>();

  constructor(
    private readonly wsServer: WebSocketServer,
    private readonly hooks: ProtocolHooks<State, Entry>,
    options: ProtocolOptions,
  ) {
    wsServer.options.handleProtocols = handleProtocols;
    const server = this;
    const connections = this.connections;
    // Shared by every socket (`this` is the socket): no listener closures per connection.
    const onMessage = function (this: WebSocket, data: WebSocket.RawData) {
      const connection = connections.get(this);
      if (connection) server.receive(connection, String(data)).catch((error) => server.fail(connection, error));
    };
    const onClose = function (this: WebSocket) {
      const connection = connections.get(this);
      if (connection) server.close(connection);
    };
    const onPong = function (this: WebSocket) {
      const connection = connections.get(this);
      if (connection) connection.awaitingPong = false;
    };
    // The HTTP server's own errors (a port in use) reach the WebSocket server too; they are the HTTP server's to report.
    wsServer.on('error', () => undefined);
    wsServer.on('connection', (socket) => {
      if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      const connection = new WsConnection<State, Entry>(socket, this);
      connections.set(socket, connection);
      socket.on('message', onMessage);
      socket.on('close', onClose);
      socket.on('pong', onPong);
      if (options.connectionInitWaitTimeout > 0) connection.initTimer = setTimeout(closeUninitialised, options.connectionInitWaitTimeout, connection);
    });
    this.keepAlive = options.keepAliveMs > 0 ? setInterval(() => this.ping(), options.keepAliveMs).unref() : null;
  }

  /** One keep-alive round: a socket that did not answer the last ping is cut, the others are pinged. */
  private ping(): void {
    for (const socket of this.wsServer.clients) {
      const connection = this.connections.get(socket);
      if (!connection || socket.readyState !== WebSocket.OPEN) continue;
      if (connection.awaitingPong) {
        connection.socket.terminate();
        continue;
      }
      connection.awaitingPong = true;
      connection.socket.ping();
    }
  }

  private async receive(connection: WsConnection<State, Entry>, data: string): Promise<void> {
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      return connection.socket.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.init(connection, message.payload);
      case MessageType.Ping:
        return connection.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.subscribe(connection, message.id, message.payload);
      case MessageType.Complete: {
        const entry = connection.operations.get(message.id);
        if (!entry) return;
        connection.operations.delete(message.id);
        entry.handle?.stop();
        // One still starting ends when its start settles (and finds its id gone).
        if (entry.handle) this.hooks.ended(connection, message.id, entry);
        return;
      }
      default:
        // Messages only a server sends (connection_ack, next, error): not the client's to send.
        return connection.socket.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  private async init(connection: WsConnection<State, Entry>, payload: unknown): Promise<void> {
    if (connection.initReceived) return connection.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    connection.initReceived = true;
    if (connection.initTimer) clearTimeout(connection.initTimer);
    connection.initTimer = null;
    const params = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
    let state: State | null = null;
    connection.authenticating = true;
    try {
      state = await this.hooks.connect(connection, params);
    } finally {
      connection.authenticating = false;
      connection.state = state;
      // The client left while it was being authenticated: what `connect` took is given back now.
      if (connection.closed) this.hooks.closed(connection);
    }
    if (connection.closed) return;
    if (state === null) return connection.socket.close(CloseCode.Forbidden, 'Forbidden');
    connection.acknowledged = true;
    connection.send(stringifyMessage({ type: MessageType.ConnectionAck }));
  }

  private async subscribe(connection: WsConnection<State, Entry>, id: string, payload: SubscribePayload): Promise<void> {
    if (!connection.acknowledged) return connection.socket.close(CloseCode.Unauthorized, 'Unauthorized');
    if (connection.operations.has(id)) return connection.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const entry = this.hooks.begin(connection, id, payload);
    connection.operations.set(id, entry);
    let outcome: OperationOutcome;
    try {
      outcome = await this.hooks.start(connection, id, payload, entry);
    } catch (error) {
      this.drop(connection, id, entry);
      throw error;
    }
    const current = connection.operations.get(id) === entry;
    if ('stream' in outcome) {
      if (!current) {
        void outcome.stream.return?.();
        return this.hooks.ended(connection, id, entry);
      }
      entry.handle = { stop: () => void outcome.stream.return?.() };
      return this.run(connection, id, entry, outcome.stream);
    }
    if ('delivery' in outcome) {
      entry.handle = outcome.delivery;
      if (!current) {
        outcome.delivery.stop();
        return this.hooks.ended(connection, id, entry);
      }
      return;
    }
    if (current) {
      if ('errors' in outcome) connection.send(stringifyMessage({ id, type: MessageType.Error, payload: this.hooks.errors(connection, entry, outcome.errors) }));
      else {
        connection.send(stringifyMessage({ id, type: MessageType.Next, payload: this.hooks.next(connection, entry, outcome.result) }));
        connection.send(stringifyMessage({ id, type: MessageType.Complete }));
      }
    }
    this.drop(connection, id, entry);
  }

  /** A graphql-js subscription stream: each result is sent once the socket took the one before (backpressure). */
  private async run(connection: WsConnection<State, Entry>, id: string, entry: Entry, stream: AsyncIterableIterator<ExecutionResult>): Promise<void> {
    try {
      for await (const result of stream) {
        if (connection.operations.get(id) !== entry) break;
        const text = stringifyMessage({ id, type: MessageType.Next, payload: this.hooks.next(connection, entry, result) });
        await new Promise<void>((resolve) => connection.send(text, () => resolve()));
      }
    } catch (error) {
      return this.finish(connection, id, [asGraphQLError(error)]);
    }
    this.finish(connection, id);
  }

  /** Ends a running operation: `complete` (or `error`) if it is still the client's, then its log. */
  finish(connection: WsConnection<State, Entry>, id: string, errors?: readonly GraphQLError[]): void {
    const entry = connection.operations.get(id);
    if (!entry) return;
    if (errors) connection.send(stringifyMessage({ id, type: MessageType.Error, payload: this.hooks.errors(connection, entry, errors) }));
    else connection.send(stringifyMessage({ id, type: MessageType.Complete }));
    this.drop(connection, id, entry);
  }

  private drop(connection: WsConnection<State, Entry>, id: string, entry: Entry): void {
    if (connection.operations.get(id) === entry) connection.operations.delete(id);
    this.hooks.ended(connection, id, entry);
  }

  private close(connection: WsConnection<State, Entry>): void {
    if (connection.closed) return;
    connection.closed = true;
    if (connection.initTimer) clearTimeout(connection.initTimer);
    const running = [...connection.operations];
    connection.operations.clear();
    for (const [id, entry] of running) {
      entry.handle?.stop();
      if (entry.handle) this.hooks.ended(connection, id, entry);
    }
    // A connection still being authenticated is closed once that settles (see `init`).
    if (!connection.authenticating) this.hooks.closed(connection);
  }

  private fail(connection: WsConnection<State, Entry>, error: unknown): void {
    this.hooks.failed(error);
    connection.socket.close(CloseCode.InternalServerError, 'Internal server error');
  }

  /** Closes every socket with 1001 (going away) and stops accepting new ones. */
  async dispose(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const socket of this.wsServer.clients) socket.close(1001, 'Going away');
    this.wsServer.removeAllListeners();
    await new Promise<void>((resolve, reject) => this.wsServer.close((error) => (error ? reject(error) : resolve())));
  }
}

/** What ended a stream, as the error its client is sent (masked by the hooks like any other). */
export function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const originalError = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(originalError.message, { originalError });
}
