import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DocumentNode, GraphQLError, GraphQLFormattedError, GraphQLSchema, getVariableValues, parse } from 'graphql';
import { WebSocketServer } from 'ws';
import type { Config } from './config';
import { Database } from './db/database';
import { TokenVerifier } from './auth/tokens';
import type { Actor } from './auth/actor';
import { createServices, Services } from './services';
import { createRequestContext, RequestContext } from './graphql/context';
import { serviceUnavailable, unauthenticated } from './graphql/errors';
import { maskError } from './server-errors';
import { buildAppSchema } from './schema';
import { MutationRateLimiter } from './graphql/rate-limit';
import { QUERY_LIMITS, documentSizeError, queryLimitsRule } from './graphql/limits';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createBalanceBus } from './balances/create-bus';
import { attachSubscriptions } from './balances/websocket';
import { Logger, createLogger, describeError, loggableOperationName } from './logger';
import { seedDemoPractice } from './demo/seed';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  config: Config;
  /** Stops accepting work, lets in-flight requests finish, closes sockets with 1001, closes the database. */
  stop(): Promise<void>;
}

function requestIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : crypto.randomUUID();
}

/**
 * Refuses, before Apollo validates it, a document whose validation alone would be costly (see documentSizeError):
 * the same check WebSocket makes between parsing and validating. A document that does not parse is left to Apollo.
 * It runs here, at the cost of a second parse (about 7 µs for a write-off, 90 µs for a 3.7 KB screen query), because
 * Apollo answers an error thrown from a plugin hook with a 500, and only the context function's errors keep their 400.
 */
function refuseCostlyDocument(req: Request): void {
  const query = req.method === 'GET' ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
  if (typeof query !== 'string') return;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: QUERY_LIMITS.maxTokens });
  } catch {
    return;
  }
  const error = documentSizeError(document);
  if (error) throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** What one HTTP request's log line says; filled in as the request goes (caller, GraphQL outcome). */
interface RequestLog {
  requestId: string;
  started: bigint;
  actor?: Actor;
  operationName?: string | null;
  codes?: string[];
}

/**
 * One line per HTTP request to /graphql, whatever ends it (an answer, a refused token, CSRF, a body too large or not
 * JSON): request id, operation name, caller, duration, status, outcome. Never variables, results or headers.
 */
function requestLogMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const log: RequestLog = { requestId: requestIdOf(req), started: process.hrtime.bigint() };
    res.locals.requestLog = log;
    res.setHeader('x-request-id', log.requestId);
    res.once('close', () => {
      const given = (req.body as { operationName?: unknown } | undefined)?.operationName;
      const operationName = log.operationName ?? loggableOperationName(given);
      const codes = log.codes ?? (res.statusCode >= 400 ? [res.statusCode === 401 ? 'UNAUTHENTICATED' : res.statusCode >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'] : []);
      logger.log('info', 'graphql_request', {
        requestId: log.requestId,
        transport: 'http',
        operationName,
        actor: log.actor?.userId ?? null,
        role: log.actor?.role ?? null,
        practiceId: log.actor?.practiceId ?? null,
        durationMs: Number(process.hrtime.bigint() - log.started) / 1e6,
        status: res.statusCode,
        outcome: codes.length ? 'error' : 'ok',
        errorCodes: codes.length ? [...new Set(codes)] : undefined,
      });
    });
    next();
  };
}

/**
 * Writes the audit events of what a request read, and notes its outcome for the request's log line. Refuses
 * subscriptions over HTTP (they live on the WebSocket): executed as a query they would fail as an internal error.
 */
function requestOutcomePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ operation, request, schema }) {
          if (operation?.operation !== 'subscription') return;
          // Bad variables first, as over WebSocket; then the transport.
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 1 });
          const [invalid] = coerced.errors ?? [];
          if (invalid) throw new GraphQLError(invalid.message, { nodes: invalid.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
          throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at this same URL, not over HTTP.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        },
        async willSendResponse({ response, operationName, errors }) {
          // What the request read goes into the audit trail before the response leaves.
          await contextValue.services.audit.recordReads(contextValue, contextValue.reads);
          contextValue.reads = [];
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const log = (contextValue as RequestContext & { requestLog?: RequestLog }).requestLog;
          if (log) {
            log.operationName = loggableOperationName(operationName);
            log.codes = (body?.errors ?? errors ?? []).map((e) => String((e as GraphQLFormattedError).extensions?.code ?? 'ERROR'));
          }
        },
      };
    },
  };
}

export async function startServer(config: Config, options: { logger?: Logger; schema?: GraphQLSchema } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = await Database.connect(config.database, { migrate: true });
  const bus = await createBalanceBus(config, logger).catch(async (error) => {
    await db.close();
    throw error;
  });
  const services = createServices(db, bus);
  if (config.seedDemo) await seedDemoPractice(services, logger);
  const schema = options.schema ?? (await buildAppSchema(new MutationRateLimiter(config.mutationRateLimit)));
  const validationRules = [queryLimitsRule, ...(config.isProduction ? [NoSchemaIntrospectionCustomRule] : [])];
  const verifier = new TokenVerifier(config.auth);
  /** The caller behind a bearer token: UNAUTHENTICATED when the token is not valid, SERVICE_UNAVAILABLE when the database is down. */
  const authenticate = async (authorization: unknown): Promise<Actor> => {
    let actor: Actor;
    try {
      actor = await verifier.verifyBearer(typeof authorization === 'string' ? authorization : null);
    } catch {
      throw unauthenticated();
    }
    try {
      await services.practices.ensure(actor.practiceId);
    } catch (error) {
      logger.log('error', 'practice_lookup_failed', describeError(error));
      throw serviceUnavailable();
    }
    return actor;
  };

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 64 * 1024 });
  const subscriptions = attachSubscriptions(wsServer, { schema, services, authenticate, logger, validationRules, hideSchemaDetails: config.isProduction });

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: !config.isProduction,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    validationRules,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    formatError: (formatted, error) => maskError(formatted, error, logger, { hideSchemaDetails: config.isProduction }),
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      { async serverWillStart() { return { drainServer: () => subscriptions.dispose() }; } },
      requestOutcomePlugin(),
      ...(config.isProduction ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [database, events, migrated] = await Promise.all([db.ping(), bus.ready(), db.pendingMigrations().then((pending) => !pending, () => false)]);
    const ready = database && events && migrated;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', database, events, migrations: migrated ? 'applied' : 'pending' });
  });
  app.use(
    '/graphql',
    requestLogMiddleware(logger),
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const log = res.locals.requestLog as RequestLog;
        const actor = await authenticate(req.headers.authorization);
        log.actor = actor;
        refuseCostlyDocument(req);
        // Object.assign, not a spread: the context's loaders are a lazy accessor.
        return Object.assign(createRequestContext(services, actor, log.requestId, 'http'), { requestLog: log });
      },
    }),
  );
  // Body-parser failures (malformed JSON, too large) answer like GraphQL, without Express's stack-trace page.
  app.use((error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status === 413 ? 413 : error.status && error.status < 500 ? 400 : 500;
    const message = status === 413 ? `The request body is larger than ${MAX_BODY_BYTES} bytes.` : status === 400 ? 'The request body is not valid JSON.' : 'Something went wrong on our side.';
    if (status === 500) logger.log('error', 'http_error', describeError(error));
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`;
  logger.log('info', 'server_started', { port, database: config.database.kind, events: config.redisUrl ? 'redis' : 'in-process' });

  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    services,
    config,
    stop() {
      stopping ??= (async () => {
        await apollo.stop();
        await bus.close();
        await db.close();
        logger.log('info', 'server_stopped');
      })();
      return stopping;
    },
  };
}
