import 'reflect-metadata';
import path from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from './config';
import { startServer } from './server';
import { signToken } from './auth/tokens';
import { DEMO_PRACTICE_ID } from './demo/seed';
import { DatabaseUnavailableError } from './db/database';
import { databaseFailure } from './cli/database';

async function main(): Promise<void> {
  loadDotEnv(path.resolve('.env'));
  const config = loadConfig();
  const server = await startServer(config);
  process.stdout.write(`\nPR ledger listening on ${server.url} (WebSocket: ${server.url.replace('http', 'ws')})\n`);
  // Only for the generated development secret: with AUTH_JWT_SECRET set, a token printed to stdout would be a real one.
  if (!config.isProduction && config.auth.secretGenerated && config.auth.jwtSecret) {
    const token = await signToken(config.auth.jwtSecret, { sub: 'demo-manager', practiceId: DEMO_PRACTICE_ID, role: 'BILLING_MANAGER' }, { expiresIn: '12h' });
    process.stdout.write(
      `Demo token (practice ${DEMO_PRACTICE_ID}, role BILLING_MANAGER, valid 12 hours):\n\n  ${token}\n\n` +
        `Try: curl -s ${server.url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\\n` +
        `       -d '{"query":"{ patients(first: 20) { edges { node { id firstName lastName balance { outstandingCents creditCents } } } } }"}'\n\n`,
    );
  }
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'shutdown', signal })}\n`);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** A start-up failure as one line that says what to do: a deployer reads it in a log, so no stack. */
function startFailure(error: unknown): string {
  if (error instanceof ConfigError) return `Configuration error: ${error.message}`;
  if (error instanceof DatabaseUnavailableError) return databaseFailure(error);
  const listen = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (listen.syscall === 'listen' && listen.code === 'EADDRINUSE') return `Port ${listen.port} is already in use: stop the other process or set PORT.`;
  if (listen.syscall === 'listen' && listen.code === 'EADDRNOTAVAIL') return `HOST ${listen.address} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all.`;
  return `The server could not start: ${error instanceof Error ? error.message : String(error)}`;
}

main().catch((error) => {
  process.stderr.write(`${startFailure(error)}\n`);
  process.exit(1);
});
