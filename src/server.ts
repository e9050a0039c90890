import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLFormattedError, GraphQLSchema } from 'graphql';
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
import { QUERY_LIMITS, queryLimitsRule } from './graphql/limits';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createBalanceBus } from './balances/create-bus';
import { attachSubscriptions } from './balances/websocket';
import { Logger, createLogger, describeError } from './logger';
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

/** One line per GraphQL request: id, operation name, caller, duration, outcome. Never variables or results. */
function requestLogPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operationName, errors }) {
          // What the request read goes into the audit trail before the response leaves.
          await contextValue.services.audit.recordReads(contextValue, contextValue.reads);
          contextValue.reads = [];
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const codes = (errors ?? body?.errors ?? []).map((e) => String((e as GraphQLFormattedError).extensions?.code ?? 'ERROR'));
          logger.log('info', 'graphql_request', {
            requestId: contextValue.requestId,
            transport: 'http',
            operationName: operationName ?? null,
            actor: contextValue.actor.userId,
            role: contextValue.actor.role,
            practiceId: contextValue.actor.practiceId,
            durationMs: Number(process.hrtime.bigint() - started) / 1e6,
            outcome: codes.length ? 'error' : 'ok',
            errorCodes: codes.length ? [...new Set(codes)] : undefined,
          });
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
  const subscriptions = attachSubscriptions(wsServer, { schema, services, authenticate, logger, validationRules });

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: !config.isProduction,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    validationRules,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    formatError: (formatted, error) => maskError(formatted, error, logger),
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      { async serverWillStart() { return { drainServer: () => subscriptions.dispose() }; } },
      requestLogPlugin(logger),
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
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const actor = await authenticate(req.headers.authorization);
        return createRequestContext(services, actor, requestIdOf(req), 'http');
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
