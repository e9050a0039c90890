import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { GraphQLSchema, NoSchemaIntrospectionCustomRule } from 'graphql';
import { WebSocketServer } from 'ws';
import type { Config } from './config';
import { Database } from './db/database';
import { TokenVerifier } from './auth/tokens';
import type { Actor } from './auth/actor';
import { createServices, Services } from './services';
import { serviceUnavailable, unauthenticated } from './graphql/errors';
import { buildAppSchema } from './schema';
import { queryLimitsRule } from './graphql/limits';
import { createBalanceBus } from './balances/create-bus';
import { attachHttp } from './transport/http';
import { attachWebSocket } from './transport/websocket';
import { createCallerLimits } from './transport/guards';
import type { TransportOptions } from './transport/transport-options';
import { Logger, createLogger, describeError } from './logger';
import { seedDemoPractice } from './demo/seed';
import { attachDashboard } from './dashboard';

export { MAX_BODY_BYTES } from './transport/http';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  config: Config;
  /** Stops accepting work, lets in-flight requests finish, closes sockets with 1001, closes the database. */
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: { logger?: Logger; schema?: GraphQLSchema } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = await Database.connect(config.database, { migrate: true });
  const bus = await createBalanceBus(config, logger).catch(async (error) => {
    await db.close();
    throw error;
  });
  const services = createServices(db, bus, config.ledger, logger);
  if (config.seedDemo) await seedDemoPractice(services, logger);
  const schema = options.schema ?? (await buildAppSchema());
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
  const transport: TransportOptions = {
    schema,
    services,
    authenticate,
    logger,
    validationRules: [queryLimitsRule, ...(config.isProduction ? [NoSchemaIntrospectionCustomRule] : [])],
    limits: createCallerLimits(config.callerLimits),
    config,
  };

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [database, events, migrated] = await Promise.all([db.ping(), bus.ready(), db.pendingMigrations().then((pending) => !pending, () => false)]);
    const ready = database && events && migrated;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', database, events, migrations: migrated ? 'applied' : 'pending' });
  });
  if (config.dashboard) attachDashboard(app, config);
  const { apollo } = await attachHttp(app, httpServer, transport, () => webSocket.dispose());

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  // Attached once the port is ours: the WebSocket server re-emits the HTTP server's errors, and graphql-ws prints them
  // with a stack, where a port in use should be one line (src/main.ts).
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 64 * 1024 });
  const webSocket = attachWebSocket(wsServer, transport);
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
        // Read audit events are batched: the last ones are written before the database closes.
        await services.audit.close();
        await bus.close();
        await db.close();
        logger.log('info', 'server_stopped');
      })();
      return stopping;
    },
  };
}
