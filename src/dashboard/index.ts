/**
 * The front-desk page (README: the front-desk page): static HTML, CSS and one ES module, served beside /graphql when
 * DASHBOARD=on (the development default). The page talks to the API with graphql-ws's browser build, served from
 * node_modules, for queries, mutations and subscriptions alike: no bundler, no framework, no hand-written protocol.
 *
 * Routes: `/` (patients) and `/patients/<id>` (one patient) answer the same HTML; the page reads its path.
 * `/dashboard/*` holds its files, `/dashboard/graphql-ws.js` the client library, `/dashboard/config.json` what the
 * sign-in form is prefilled with: in development with the generated secret only (the token `npm start` prints), never
 * with a configured secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Config } from '../config';
import { signToken } from '../auth/tokens';
import { DEMO_PRACTICE_ID } from '../demo/seed';

/** The page's files (tsc copies none of them): beside this module under ts-jest, in the source tree when running from dist/. */
function publicDirectory(): string {
  const candidates = [path.join(__dirname, 'public'), path.resolve(__dirname, '../../../src/dashboard/public')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

/** graphql-ws's UMD build (a global `graphqlWs`), found from the package's own entry point. */
function graphqlWsBrowserBuild(): string {
  return path.resolve(path.dirname(require.resolve('graphql-ws')), '../umd/graphql-ws.min.js');
}

/** Sends a file, or a plain 404 saying what is missing (not the JSON error handler of /graphql, which would follow). */
function sendFile(res: express.Response, file: string): void {
  res.sendFile(file, (error) => {
    if (error && !res.headersSent) res.status(404).type('text/plain').send(`Not found: ${path.basename(file)} (the front-desk page, src/dashboard/public).`);
  });
}

export function attachDashboard(app: express.Express, config: Config): void {
  const dir = publicDirectory();
  const page = (_req: express.Request, res: express.Response) => {
    res.setHeader('cache-control', 'no-store');
    sendFile(res, path.join(dir, 'index.html'));
  };
  app.get('/', page);
  app.get('/patients/:id', page);
  app.get('/dashboard/graphql-ws.js', (_req, res) => {
    res.type('text/javascript');
    sendFile(res, graphqlWsBrowserBuild());
  });
  app.get('/dashboard/config.json', async (_req, res) => {
    const devToken =
      !config.isProduction && config.auth.secretGenerated && config.auth.jwtSecret
        ? await signToken(config.auth.jwtSecret, { sub: 'demo-manager', practiceId: DEMO_PRACTICE_ID, role: 'BILLING_MANAGER' }, { expiresIn: '12h' })
        : null;
    res.setHeader('cache-control', 'no-store');
    res.json({ devToken });
  });
  app.use('/dashboard', express.static(dir, { index: false }));
}
