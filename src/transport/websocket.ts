import crypto from 'node:crypto';
import {
  GraphQLError,
  GraphQLFormattedError,
  parse,
  validate,
  specifiedRules,
  ExecutionArgs,
  ExecutionResult,
  FormattedExecutionResult,
  DocumentNode,
  getOperationAST,
  Kind,
  execute,
  subscribe as graphqlSubscribe,
  createSourceEventStream,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor';
import { ConnectionContext, SignalSource, createConnectionContext, createOperationContext, RequestContext } from '../graphql/context';
import { ExecutionGroups, groupKey, isShareableSelection } from '../balances/shared-execution';
import type { BalanceView } from '../read-model/views';
import type { LatestWinsQueue } from '../balances/latest-wins-queue';
import { maskError } from '../server-errors';
import { QUERY_LIMITS, documentSizeError } from '../graphql/limits';
import { describeError, loggableOperationName } from '../logger';
import type { TransportOptions } from './transport-options';
import { admitOperation, auditReads, callerKey } from './guards';
import { GraphQLTransportWsServer, OperationEntry, OperationOutcome, Stoppable, WsConnection } from './graphql-transport-ws';
import { SharedDelivery } from './shared-delivery';

/** graphql-ws close code for a refused or expired credential. */
export const CLOSE_FORBIDDEN = 4403;
/** Close code for a caller over its limit of open connections (graphql-ws leaves 4400–4499 to the server). */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** graphql-ws's own defaults: `connection_init` within 3 s, a WebSocket ping every 12 s. */
const CONNECTION_INIT_WAIT_MS = 3000;
const KEEP_ALIVE_MS = 12_000;

/** What a connection's operations share once its caller is known (issue 13: no full request context per subscription). */
class ConnectionState implements SignalSource {
  readonly context: ConnectionContext;
  expiry: NodeJS.Timeout | null = null;
  /**
   * Aborted when the socket closes: what its operations still compute is for no one. Made on first use (an
   * AbortController is a good part of an idle connection's memory); one made after the close is aborted at once.
   */
  private gone: AbortController | null = null;
  private closed = false;

  constructor(
    readonly actor: Actor,
    services: TransportOptions['services'],
  ) {
    this.context = createConnectionContext(services, actor, 'ws');
  }

  signal(): AbortSignal {
    if (!this.gone) {
      this.gone = new AbortController();
      if (this.closed) this.gone.abort();
    }
    return this.gone.signal;
  }

  close(): void {
    this.closed = true;
    this.gone?.abort();
    if (this.expiry) clearTimeout(this.expiry);
  }
}

/** One operation in flight, for the log line it gets when it ends. */
class OperationLog implements OperationEntry {
  handle: Stoppable | null = null;
  readonly requestId = crypto.randomUUID();
  readonly started = performance.now();
  /** The error codes its answers carried; made on the first one (most operations have none). */
  codes: Set<string> | null = null;
  /** A query's or a per-subscriber stream's context, whose reads go to the audit trail with each answer. */
  context: RequestContext | null = null;

  constructor(public operationName: string | null) {}

  note(code: string): void {
    (this.codes ??= new Set()).add(code);
  }
}

type Connection = WsConnection<ConnectionState, OperationLog>;

/** An expiring token ends its connection: a timer waits at most ~24.8 days, so a longer-lived one re-arms it. */
function closeAtExpiry(socket: WebSocket, state: ConnectionState): void {
  const remaining = state.actor.expiresAt * 1000 - Date.now();
  if (remaining <= 0) return socket.close(CLOSE_FORBIDDEN, 'Forbidden: token expired');
  state.expiry = setTimeout(closeAtExpiry, Math.min(remaining, MAX_TIMER_MS), socket, state);
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
 * GraphQL over WebSocket (graphql-ws's protocol) on the HTTP server's port and path. The token comes in
 * `connectionParams`; a missing, forged or expired one closes the socket with 4403, and a caller over its limit of
 * open connections gets 4429. Each operation is parsed and validated with the same rules as HTTP, admitted by the
 * same guards (rate limits, roles), capped per connection, and its errors are masked like HTTP's.
 */
export function attachWebSocket(wsServer: WebSocketServer, options: TransportOptions): { dispose(): Promise<void> } {
  const { schema, services, authenticate, logger, limits } = options;
  const hideSchemaDetails = options.config.isProduction;
  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const source = !error.extensions?.code && isBadVariable(error) ? withCode(error, 'BAD_USER_INPUT') : error;
      return maskError(source.toJSON(), source, logger, { hideSchemaDetails });
    });
  const noteCodes = (log: OperationLog, errors: readonly GraphQLFormattedError[]) => {
    for (const error of errors) log.note(String(error.extensions?.code ?? 'ERROR'));
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
  const neverAborted = new AbortController().signal;
  const groupContext = (actor: Actor) =>
    createOperationContext(
      createConnectionContext(services, { userId: 'shared-subscription-group', practiceId: actor.practiceId, role: actor.role, expiresAt: actor.expiresAt }, 'ws'),
      `shared-${crypto.randomUUID()}`,
      neverAborted,
    );

  /** A shareable subscription joins its group and is delivered by a SharedDelivery of its own. */
  const deliverShared = (connection: Connection, id: string, log: OperationLog, query: string, args: ExecutionArgs, source: LatestWinsQueue<BalanceView>): SharedDelivery => {
    const actor = connection.state!.actor;
    const key = groupKey({ query, operationName: args.operationName, variables: args.variableValues, practiceId: actor.practiceId, role: actor.role });
    const group = groups.join(key, () => ({
      schema,
      document: args.document,
      operationName: args.operationName,
      variableValues: args.variableValues,
      contextValue: groupContext(actor),
      formatErrors: (result) => format(result.errors ?? []),
    }));
    return new SharedDelivery(connection, id, log, group, groups, source);
  };

  /**
   * A subscription that could not start (unknown patient, FORBIDDEN, bad variables) ends with an error message.
   * Variables that do not fit their definitions are the caller's mistake (BAD_USER_INPUT, as over HTTP), even when a
   * scalar's parser is the original error; anything else without a code is ours.
   */
  const notStarted = (result: ExecutionResult): OperationOutcome => {
    const [first] = result.errors ?? [];
    if (!first) return { result };
    return { errors: [first.extensions?.code ? first : withCode(first, isBadVariable(first) ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR')] };
  };

  const start = async (connection: Connection, id: string, payload: SubscribePayload, log: OperationLog): Promise<OperationOutcome> => {
    const state = connection.state!;
    // Counted from the connection's operations in flight (this one included): an id leaves them the moment the client
    // completes it or it ends, so a slot is free again before the client's next message.
    const cap = limits.subscriptionsPerConnection;
    if (cap > 0 && connection.operations.size > cap) {
      return { errors: [new GraphQLError(`At most ${cap} subscriptions per connection.`, { extensions: { code: 'BAD_REQUEST' } })] };
    }
    let checked = cachedDocument(payload.query);
    if (!checked) {
      let parsed: DocumentNode;
      try {
        parsed = parse(payload.query, { maxTokens: QUERY_LIMITS.maxTokens });
      } catch (error) {
        return { errors: [withCode(error instanceof GraphQLError ? error : new GraphQLError('Syntax error'), 'GRAPHQL_PARSE_FAILED')] };
      }
      checked = checkDocument(payload.query, parsed);
    }
    if (checked.errors.length > 0) return { errors: checked.errors };
    const document = checked.document;
    // Resolved here, as over HTTP (OPERATION_RESOLUTION_FAILURE).
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) {
      const message = payload.operationName
        ? `Unknown operation named "${payload.operationName}".`
        : 'Must provide operation name if query contains multiple operations.';
      return { errors: [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })] };
    }
    // The log line names the operation even when the client did not send its name (as Apollo does over HTTP).
    log.operationName = loggableOperationName(operation.name?.value);
    const contextValue = createOperationContext(state.context, log.requestId, state);
    try {
      await admitOperation(contextValue, schema, document, operation, payload.variables, limits);
    } catch (error) {
      return { errors: [error instanceof GraphQLError ? error : withCode(new GraphQLError('Something went wrong on our side.', { originalError: error as Error }), 'INTERNAL_SERVER_ERROR')] };
    }
    const args: ExecutionArgs = { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
    if (operation.operation !== 'subscription') {
      log.context = contextValue;
      return { result: await execute(args) };
    }
    if (checked.shareable) {
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in Object(source))) return notStarted(source as ExecutionResult);
      // Every field a shareable selection may subscribe to streams balances through a latest-wins queue.
      return { delivery: deliverShared(connection, id, log, payload.query, args, source as LatestWinsQueue<BalanceView>) };
    }
    const stream = await graphqlSubscribe(args);
    if (!(Symbol.asyncIterator in Object(stream))) return notStarted(stream as ExecutionResult);
    log.context = contextValue;
    return { stream: stream as AsyncIterableIterator<ExecutionResult> };
  };

  const server = new GraphQLTransportWsServer<ConnectionState, OperationLog>(
    wsServer,
    {
      connect: async (connection, params) => {
        let actor: Actor;
        try {
          actor = await authenticate(params?.authorization ?? params?.Authorization);
        } catch {
          logger.log('info', 'ws_refused', { reason: 'invalid_token' });
          return null;
        }
        if (!limits.connections.acquire(callerKey(actor))) {
          logger.log('info', 'ws_refused', { reason: 'too_many_connections', actor: actor.userId, practiceId: actor.practiceId });
          connection.socket.close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections: at most ${limits.connections.max} per user`);
          return null;
        }
        const state = new ConnectionState(actor, services);
        closeAtExpiry(connection.socket, state);
        return state;
      },
      begin: (_connection, _id, payload) => new OperationLog(loggableOperationName(payload.operationName)),
      start,
      next: (_connection, log, result) => {
        // What a query read goes to the audit trail, as over HTTP.
        if (log.context) auditReads(log.context);
        if (!result.errors) return result as FormattedExecutionResult;
        const errors = format(result.errors);
        noteCodes(log, errors);
        return { ...result, errors };
      },
      errors: (_connection, log, errors) => {
        const formatted = format(errors);
        noteCodes(log, formatted);
        return formatted;
      },
      // One line per operation, like HTTP's per request: id, operation name, caller, duration, outcome. Never variables.
      ended: (connection, _id, log) => {
        const actor = connection.state?.actor;
        logger.log('info', 'graphql_request', {
          requestId: log.requestId,
          transport: 'ws',
          operationName: log.operationName,
          actor: actor?.userId ?? null,
          role: actor?.role ?? null,
          practiceId: actor?.practiceId ?? null,
          durationMs: performance.now() - log.started,
          outcome: log.codes?.size ? 'error' : 'ok',
          errorCodes: log.codes?.size ? [...log.codes] : undefined,
        });
      },
      closed: (connection) => {
        const state = connection.state;
        if (!state) return;
        limits.connections.release(callerKey(state.actor));
        state.close();
      },
      failed: (error) => logger.log('error', 'ws_internal_error', describeError(error)),
    },
    { connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS, keepAliveMs: KEEP_ALIVE_MS },
  );
  // A socket error (a frame over maxPayload, a broken frame) already closes the socket (1009, 1002): one JSON line,
  // from one listener shared by every socket.
  const onSocketError = (error: Error & { code?: string }) => logger.log('warn', 'ws_socket_error', { errorCode: error.code ?? error.constructor.name });
  wsServer.on('connection', (socket) => socket.on('error', onSocketError));
  return { dispose: () => server.dispose() };
}
