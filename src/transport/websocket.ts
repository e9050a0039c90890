import crypto from 'node:crypto';
import { GraphQLError, GraphQLFormattedError, parse, validate, specifiedRules, ExecutionResult, DocumentNode, getOperationAST, Kind } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor';
import { createRequestContext, RequestContext } from '../graphql/context';
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
  expiry?: NodeJS.Timeout;
  /** Operations in flight, for the log line each gets when it ends. */
  operations: Map<string, OperationLog>;
  /** Aborted when the socket closes: what its operations still compute is for no one. */
  gone: AbortController;
}

interface OperationLog {
  requestId: string;
  operationName: string | null;
  started: bigint;
  codes: Set<string>;
}

type Extra = { state?: ConnectionState };

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
      outcome: operation.codes.size ? 'error' : 'ok',
      errorCodes: operation.codes.size ? [...operation.codes] : undefined,
    });
  };
  const noteCodes = (state: ConnectionState | undefined, id: string, errors: readonly GraphQLFormattedError[]) => {
    for (const error of errors) state?.operations.get(id)?.codes.add(String(error.extensions?.code ?? 'ERROR'));
  };
  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: 3000,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          const actor = await authenticate(params.authorization ?? params.Authorization);
          if (!limits.connections.acquire(callerKey(actor))) {
            logger.log('info', 'ws_refused', { reason: 'too_many_connections', actor: actor.userId, practiceId: actor.practiceId });
            ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections: at most ${limits.connections.max} per user`);
            return false;
          }
          const state: ConnectionState = { actor, operations: new Map(), gone: new AbortController() };
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
        state.operations.set(id, { requestId, operationName, started: process.hrtime.bigint(), codes: new Set() });
        // Counted from graphql-ws's own table of the connection's operations (this one included): an id leaves it the
        // moment the client completes it or it ends, so a slot is free again before the client's next message.
        const cap = limits.subscriptionsPerConnection;
        if (cap > 0 && Object.keys(ctx.subscriptions).length > cap) {
          return [new GraphQLError(`At most ${cap} subscriptions per connection.`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: QUERY_LIMITS.maxTokens });
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError('Syntax error'), 'GRAPHQL_PARSE_FAILED')];
        }
        const tooCostly = documentSizeError(document);
        if (tooCostly) return [withCode(tooCostly, 'GRAPHQL_VALIDATION_FAILED')];
        const errors = validate(schema, document, [...specifiedRules, ...options.validationRules]);
        if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
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
        const contextValue = createRequestContext(services, state.actor!, { requestId, transport: 'ws', signal: state.gone.signal });
        try {
          await admitOperation(contextValue, schema, document, operation, payload.variables, limits);
        } catch (error) {
          return [error instanceof GraphQLError ? error : withCode(new GraphQLError('Something went wrong on our side.', { originalError: error as Error }), 'INTERNAL_SERVER_ERROR')];
        }
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
        state?.gone.abort();
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
