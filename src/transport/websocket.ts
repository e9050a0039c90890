import crypto from 'node:crypto';
import {
  GraphQLError,
  GraphQLFormattedError,
  parse,
  validate,
  specifiedRules,
  ExecutionArgs,
  ExecutionResult,
  DocumentNode,
  getOperationAST,
  Kind,
  subscribe as graphqlSubscribe,
  createSourceEventStream,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor';
import { ConnectionContext, createConnectionContext, createOperationContext, RequestContext } from '../graphql/context';
import { ExecutionGroup, ExecutionGroups, PreparedFrame, frameFor, groupKey, isShareableSelection } from '../balances/shared-execution';
import type { BalanceView } from '../read-model/views';
import { LatestWinsQueue } from '../balances/latest-wins-queue';
import { maskError } from '../server-errors';
import { QUERY_LIMITS, documentSizeError } from '../graphql/limits';
import { loggableOperationName } from '../logger';
import type { TransportOptions } from './transport-options';
import { admitOperation, auditReads, callerKey } from './guards';

/** graphql-ws close code for a refused or expired credential. */
export const CLOSE_FORBIDDEN = 4403;
/** Close code for a caller over its limit of open connections (graphql-ws leaves 4400–4499 to the server). */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ConnectionState {
  actor?: Actor;
  /** What the connection's operations share (issue 13: no full request context per subscription). */
  context?: ConnectionContext;
  expiry?: NodeJS.Timeout;
  /** Operations in flight, for the log line each gets when it ends. */
  operations: Map<string, OperationLog>;
  /**
   * Aborted when the socket closes: what its operations still compute is for no one. Made on first use (an
   * AbortController is a good part of an idle connection's memory); one made after the close is aborted at once.
   */
  gone?: AbortController;
  closed?: boolean;
  signal: () => AbortSignal;
}

interface OperationLog {
  requestId: string;
  operationName: string | null;
  started: bigint;
  /** The error codes its answers carried; made on the first one (most operations have none). */
  codes?: Set<string>;
}

function noteCode(operation: OperationLog | undefined, code: string): void {
  if (operation) (operation.codes ??= new Set()).add(code);
}

type Extra = { state?: ConnectionState; socket: WebSocket; request?: unknown };

/** What a shared subscription needs to write its frames itself: its socket, its id and its connection's log. */
interface Delivery {
  socket: WebSocket;
  id: string;
  state: ConnectionState;
  query: string;
}

/** A parsed and validated document, by its text: the subscribers of one dashboard share one AST. */
interface CheckedDocument {
  document: DocumentNode;
  errors: readonly GraphQLError[];
  shareable: boolean;
}
const DOCUMENT_CACHE_SIZE = 500;
/** Longer documents are checked every time, so the cache stays small (at most ~4 MiB of text) whatever is sent. */
const CACHED_DOCUMENT_MAX_LENGTH = 8 * 1024;

/**
 * One shared subscription's delivery (issue 13). Started as any other subscription (createSourceEventStream ran its
 * `subscribe`: the authorisation, NOT_FOUND and audit are the subscriber's own), it then takes each balance its own
 * stream yields, has its group turn it into a frame, and writes that frame to its socket — one at a time: the next
 * balance is taken only once the socket took the frame, so a socket that cannot keep up leaves the stream's
 * latest-wins queue holding the newest balance per patient, and versions only rise, per subscriber, as before.
 * To graphql-ws it is the operation's iterator: it yields nothing, and ends when the stream ends (or with its error);
 * graphql-ws's `return()` (the client's complete, the socket's close) stops it. A class, not closures: an idle
 * subscription holds one small object.
 */
class SharedDelivery implements AsyncIterableIterator<ExecutionResult> {
  private stopped = false;
  private failure: { error: unknown } | null = null;
  private ended: Promise<IteratorResult<ExecutionResult>> | null = null;
  private settle: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private reject: ((error: unknown) => void) | null = null;

  constructor(
    private readonly socket: WebSocket,
    private readonly id: string,
    private readonly state: ConnectionState,
    private readonly group: ExecutionGroup,
    private readonly groups: ExecutionGroups,
    private readonly source: AsyncIterableIterator<BalanceView>,
  ) {
    this.pull();
  }

  private pull(): void {
    if (this.source instanceof LatestWinsQueue) {
      // The balance streams' own queue: take at once what is pending, or be woken when something is.
      const next = this.source.take();
      if (next) return this.deliver(next);
      this.source.waker = this;
      return;
    }
    this.source.next().then(
      (next) => this.deliver(next),
      (error) => this.fail(error),
    );
  }

  private deliver(next: IteratorResult<BalanceView>): void {
    if (next.done || this.stopped) return this.finish();
    const ready = this.group.ready(next.value);
    if (ready) return this.send(ready);
    this.group.prepare(next.value).then(
      (prepared) => this.send(prepared),
      (error) => this.fail(error),
    );
  }

  private send(prepared: PreparedFrame): void {
    if (this.stopped || this.socket.readyState !== WebSocket.OPEN) return this.finish();
    if (prepared.codes.length) for (const code of prepared.codes) noteCode(this.state.operations.get(this.id), code);
    // The callback comes once the frame was handed to the kernel; an error means the socket is going away, and its
    // close ends the subscription.
    this.socket.send(frameFor(prepared, this.id), (error) => (error ? this.finish() : this.pull()));
  }

  /** The queue has a value (or closed). */
  wake(): void {
    this.pull();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.groups.leave(this.group);
    void this.source.return?.();
  }

  private finish(): void {
    this.stop();
    const settle = this.settle;
    this.settle = this.reject = null;
    settle?.({ value: undefined, done: true });
  }

  private fail(error: unknown): void {
    this.stop();
    const reject = this.reject;
    this.settle = this.reject = null;
    if (reject) reject(error);
    else if (!this.ended) this.failure = { error };
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.stopped && !this.ended) return Promise.resolve({ value: undefined, done: true });
    return (this.ended ??= new Promise((resolve, reject) => {
      this.settle = resolve;
      this.reject = reject;
    }));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/** A variable that does not fit its definition is the caller's mistake (BAD_USER_INPUT, as over HTTP). */
function isBadVariable(error: GraphQLError): boolean {
  return error.nodes?.length === 1 && error.nodes[0].kind === Kind.VARIABLE_DEFINITION;
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  // Keeps the cause, so masking can still tell a database outage (SERVICE_UNAVAILABLE) and logs what really failed.
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    // A syntax error has a source position instead of nodes: keep it, so its locations read as over HTTP.
    source: error.nodes ? undefined : error.source,
    positions: error.nodes ? undefined : error.positions,
    originalError: error.originalError,
    extensions: { code },
  });
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's port and path. The token comes in `connectionParams`;
 * a missing, forged or expired one closes the socket with 4403, and a caller over its limit of open connections gets
 * 4429. Each operation is parsed and validated with the same rules as HTTP, admitted by the same guards (rate limits,
 * roles), capped per connection, and its errors are masked like HTTP's.
 */
export function attachWebSocket(wsServer: WebSocketServer, options: TransportOptions): { dispose(): Promise<void> } {
  const { schema, services, authenticate, logger, limits } = options;
  const hideSchemaDetails = options.config.isProduction;
  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      // A located error (a resolver's, with path and locations) speaks for itself, as over HTTP; graphql-ws's own
      // wrapper of an error that ended a stream carries neither, so its cause does.
      let source = error.originalError instanceof GraphQLError && !error.path && !error.locations ? error.originalError : error;
      if (!source.extensions?.code && isBadVariable(source)) source = withCode(source, 'BAD_USER_INPUT');
      return maskError(source.toJSON(), source, logger, { hideSchemaDetails });
    });
  /** One line per operation, like HTTP's per request: id, operation name, caller, duration, outcome. Never variables. */
  const finish = (state: ConnectionState | undefined, id: string) => {
    const operation = state?.operations.get(id);
    if (!state || !operation) return;
    state.operations.delete(id);
    logger.log('info', 'graphql_request', {
      requestId: operation.requestId,
      transport: 'ws',
      operationName: operation.operationName,
      actor: state.actor?.userId ?? null,
      role: state.actor?.role ?? null,
      practiceId: state.actor?.practiceId ?? null,
      durationMs: Number(process.hrtime.bigint() - operation.started) / 1e6,
      outcome: operation.codes?.size ? 'error' : 'ok',
      errorCodes: operation.codes?.size ? [...operation.codes] : undefined,
    });
  };
  const noteCodes = (state: ConnectionState | undefined, id: string, errors: readonly GraphQLFormattedError[]) => {
    for (const error of errors) noteCode(state?.operations.get(id), String(error.extensions?.code ?? 'ERROR'));
  };
  /** Parse, size check and validation by document text: the same for every caller, so done once per document. */
  const checkedDocuments = new Map<string, CheckedDocument>();
  const cachedDocument = (query: string): CheckedDocument | undefined => {
    const known = checkedDocuments.get(query);
    if (known) {
      // Most recently used last, so the oldest goes first when the cache is full.
      checkedDocuments.delete(query);
      checkedDocuments.set(query, known);
    }
    return known;
  };
  const checkDocument = (query: string, document: DocumentNode): CheckedDocument => {
    const tooCostly = documentSizeError(document);
    const errors = tooCostly
      ? [withCode(tooCostly, 'GRAPHQL_VALIDATION_FAILED')]
      : validate(schema, document, [...specifiedRules, ...options.validationRules]).map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    const checked = { document, errors, shareable: errors.length === 0 && isShareableSelection(schema, document) };
    if (query.length > CACHED_DOCUMENT_MAX_LENGTH) return checked;
    checkedDocuments.set(query, checked);
    if (checkedDocuments.size > DOCUMENT_CACHE_SIZE) checkedDocuments.delete(checkedDocuments.keys().next().value!);
    return checked;
  };

  // Shared execution (issue 13): subscribers with the same document, variables, practice and role share one
  // execution and one serialisation per balance; each socket gets the prepared frame with its own id.
  const groups = new ExecutionGroups();
  const deliveries = new WeakMap<object, Delivery>();
  const neverAborted = new AbortController().signal;
  const groupContext = (actor: Actor) =>
    createOperationContext(
      createConnectionContext(services, { userId: 'shared-subscription-group', practiceId: actor.practiceId, role: actor.role, expiresAt: actor.expiresAt }, 'ws'),
      `shared-${crypto.randomUUID()}`,
      neverAborted,
    );

  /** A shareable subscription joins its group and is delivered by a SharedDelivery of its own. */
  const deliverShared = (args: ExecutionArgs, delivery: Delivery, source: AsyncIterableIterator<BalanceView>): AsyncIterableIterator<ExecutionResult> => {
    const actor = delivery.state.actor!;
    const key = groupKey({ query: delivery.query, operationName: args.operationName, variables: args.variableValues, practiceId: actor.practiceId, role: actor.role });
    const group = groups.join(key, () => ({
      schema,
      document: args.document,
      operationName: args.operationName,
      variableValues: args.variableValues,
      contextValue: groupContext(actor),
      formatErrors: (result) => format(result.errors ?? []),
    }));
    return new SharedDelivery(delivery.socket, delivery.id, delivery.state, group, groups, source);
  };

  const subscribe = async (args: ExecutionArgs) => {
    const delivery = args.contextValue ? deliveries.get(args.contextValue as object) : undefined;
    if (!delivery) return graphqlSubscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    return deliverShared(args, delivery, source as AsyncIterableIterator<BalanceView>);
  };

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: 3000,
      subscribe,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          const actor = await authenticate(params.authorization ?? params.Authorization);
          if (!limits.connections.acquire(callerKey(actor))) {
            logger.log('info', 'ws_refused', { reason: 'too_many_connections', actor: actor.userId, practiceId: actor.practiceId });
            ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections: at most ${limits.connections.max} per user`);
            return false;
          }
          const state: ConnectionState = {
            actor,
            context: createConnectionContext(services, actor, 'ws'),
            operations: new Map(),
            signal: () => {
              if (!state.gone) {
                state.gone = new AbortController();
                if (state.closed) state.gone.abort();
              }
              return state.gone.signal;
            },
          };
          // The upgrade request is not needed once the caller is known: not holding it is a good part of an idle
          // connection's memory.
          // (Set to undefined rather than deleted, which would turn the object into a slower, larger dictionary.) The
          // token in connectionParams has done its work too.
          (ctx.extra as { request?: unknown }).request = undefined;
          (ctx as { connectionParams?: unknown }).connectionParams = undefined;
          // An expiring token ends its subscriptions: the client must reconnect with a fresh one. A timer waits at
          // most ~24.8 days, so a longer-lived token re-arms it until the expiry is reached.
          const closeAtExpiry = () => {
            const remaining = actor.expiresAt * 1000 - Date.now();
            if (remaining <= 0) return ctx.extra.socket.close(CLOSE_FORBIDDEN, 'Forbidden: token expired');
            state.expiry = setTimeout(closeAtExpiry, Math.min(remaining, MAX_TIMER_MS));
          };
          closeAtExpiry();
          ctx.extra.state = state;
          return true;
        } catch {
          logger.log('info', 'ws_refused', { reason: 'invalid_token' });
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = ctx.extra.state!;
        const requestId = crypto.randomUUID();
        const operationName = loggableOperationName(payload.operationName);
        state.operations.set(id, { requestId, operationName, started: process.hrtime.bigint() });
        // Counted from graphql-ws's own table of the connection's operations (this one included): an id leaves it the
        // moment the client completes it or it ends, so a slot is free again before the client's next message.
        const cap = limits.subscriptionsPerConnection;
        if (cap > 0 && Object.keys(ctx.subscriptions).length > cap) {
          return [new GraphQLError(`At most ${cap} subscriptions per connection.`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        let checked = cachedDocument(payload.query);
        if (!checked) {
          let parsed: DocumentNode;
          try {
            parsed = parse(payload.query, { maxTokens: QUERY_LIMITS.maxTokens });
          } catch (error) {
            return [withCode(error instanceof GraphQLError ? error : new GraphQLError('Syntax error'), 'GRAPHQL_PARSE_FAILED')];
          }
          checked = checkDocument(payload.query, parsed);
        }
        if (checked.errors.length > 0) return [...checked.errors];
        const document = checked.document;
        // Resolved here, as over HTTP (OPERATION_RESOLUTION_FAILURE): graphql-ws would fail it later without a code.
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          const message = payload.operationName
            ? `Unknown operation named "${payload.operationName}".`
            : 'Must provide operation name if query contains multiple operations.';
          return [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
        }
        // The log line names the operation even when the client did not send its name (as Apollo does over HTTP).
        const logged = state.operations.get(id);
        if (logged) logged.operationName = loggableOperationName(operation.name?.value);
        const contextValue = createOperationContext(state.context!, requestId, state.signal);
        try {
          await admitOperation(contextValue, schema, document, operation, payload.variables, limits);
        } catch (error) {
          return [error instanceof GraphQLError ? error : withCode(new GraphQLError('Something went wrong on our side.', { originalError: error as Error }), 'INTERNAL_SERVER_ERROR')];
        }
        if (operation.operation === 'subscription' && checked.shareable) deliveries.set(contextValue, { socket: ctx.extra.socket, id, state, query: payload.query });
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      onOperation: (_ctx, _id, _payload, args, result) => {
        // A subscription that could not start (unknown patient, FORBIDDEN, bad variables) ends with an error message.
        // Queries and mutations answer with `next`, like HTTP's body: data and errors side by side, nothing dropped.
        const failed = result as ExecutionResult;
        const isSubscription = getOperationAST(args.document, args.operationName)?.operation === 'subscription';
        if (isSubscription && !(Symbol.asyncIterator in Object(result)) && failed.errors?.length) {
          const [first] = failed.errors;
          // Variables that do not fit their definitions are the caller's mistake (BAD_USER_INPUT, as over HTTP), even when
          // a scalar's parser is the original error; anything else without a code is ours.
          const badVariable = isBadVariable(first);
          const error = first.extensions?.code ? first : withCode(first, badVariable ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR');
          return {
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
          } as AsyncIterable<ExecutionResult>;
        }
        return undefined;
      },
      onNext: async (ctx, id, _payload, args, result) => {
        // What a query read goes to the audit trail, as over HTTP.
        auditReads(args.contextValue as RequestContext);
        if (!result.errors) return result;
        const errors = format(result.errors);
        noteCodes(ctx.extra.state, id, errors);
        return { ...result, errors };
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = format(errors);
        noteCodes(ctx.extra.state, id, formatted);
        finish(ctx.extra.state, id);
        return formatted;
      },
      onComplete: (ctx, id) => finish(ctx.extra.state, id),
      onClose: (ctx) => {
        const state = ctx.extra.state;
        if (state?.actor) limits.connections.release(callerKey(state.actor));
        if (state) state.closed = true;
        state?.gone?.abort();
        clearTimeout(state?.expiry);
        for (const id of [...(ctx.extra.state?.operations.keys() ?? [])]) finish(ctx.extra.state, id);
      },
    },
    wsServer,
  );
  // A socket error (a frame over maxPayload, a broken frame) already closes the socket (1009, 1002); graphql-ws would
  // also print it unstructured to stderr, which any client could repeat at will. Log it as one JSON line instead.
  wsServer.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => logger.log('warn', 'ws_socket_error', { errorCode: error.code ?? error.constructor.name }));
  });
  return { dispose: () => server.dispose() as Promise<void> };
}
