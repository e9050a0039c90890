import crypto from 'node:crypto';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, parse, validate, specifiedRules, ExecutionResult, DocumentNode, ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import type { Actor } from '../auth/actor';
import type { Services } from '../services';
import { createRequestContext } from '../graphql/context';
import { maskError } from '../server-errors';
import { QUERY_LIMITS } from '../graphql/limits';
import type { Logger } from '../logger';

export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;
/** graphql-ws close code for a refused or expired credential. */
export const CLOSE_FORBIDDEN = 4403;

interface ConnectionState {
  actor?: Actor;
  subscriptions: number;
  expiry?: NodeJS.Timeout;
}

type Extra = { state?: ConnectionState };

export interface SubscriptionOptions {
  schema: GraphQLSchema;
  services: Services;
  authenticate(authorization: unknown): Promise<Actor>;
  logger: Logger;
  /** Rules beyond the standard ones: the same as HTTP's. */
  validationRules?: ValidationRule[];
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code } });
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's port and path. The token comes in `connectionParams`;
 * a missing, forged or expired one closes the socket with 4403. Each subscription is parsed and validated with the
 * same rules as HTTP, authorised, capped per connection, and its errors are masked like HTTP's.
 */
export function attachSubscriptions(wsServer: WebSocketServer, options: SubscriptionOptions): { dispose(): Promise<void> } {
  const { schema, services, authenticate, logger } = options;
  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const source = error.originalError instanceof GraphQLError ? error.originalError : error;
      return maskError(source.toJSON(), source, logger);
    });
  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: 3000,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          const actor = await authenticate(params.authorization ?? params.Authorization);
          const state: ConnectionState = { actor, subscriptions: 0 };
          const remaining = actor.expiresAt * 1000 - Date.now();
          // An expiring token ends its subscriptions: the client must reconnect with a fresh one.
          state.expiry = setTimeout(() => ctx.extra.socket.close(CLOSE_FORBIDDEN, 'Forbidden: token expired'), Math.min(Math.max(remaining, 0), 2 ** 31 - 1));
          ctx.extra.state = state;
          return true;
        } catch {
          logger.log('info', 'ws_refused', { reason: 'invalid_token' });
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const state = ctx.extra.state!;
        if (state.subscriptions >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [new GraphQLError(`At most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection.`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: QUERY_LIMITS.maxTokens });
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError('Syntax error'), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, [...specifiedRules, ...(options.validationRules ?? [])]);
        if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        state.subscriptions += 1;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createRequestContext(services, state.actor!, crypto.randomUUID(), 'ws'),
        };
      },
      onOperation: (_ctx, _id, _payload, _args, result) => {
        // A subscription that could not start (unknown patient, FORBIDDEN, bad variables) ends with an error message.
        const failed = result as ExecutionResult;
        if (!(Symbol.asyncIterator in Object(result)) && failed.errors?.length) {
          const [first] = failed.errors;
          const error = first.extensions?.code ? first : withCode(first, first.originalError ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT');
          return {
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
          } as AsyncIterable<ExecutionResult>;
        }
        return undefined;
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : result),
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onComplete: (ctx) => {
        if (ctx.extra.state) ctx.extra.state.subscriptions -= 1;
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.state?.expiry);
      },
    },
    wsServer,
  );
  return { dispose: () => server.dispose() as Promise<void> };
}
