/**
 * The front-desk page (src/dashboard, issue 13) in a real Chromium, driven by playwright-core through the page's
 * data-testid hooks only: two pages on one patient, a write-off in one shows in the other within a second, the
 * disabled Write Off of a paid line carries the PR_ALREADY_PAID tooltip, Remove Write Off restores both.
 * A screenshot of each step goes to SCREENSHOT_DIR (default: a fresh folder under the system temp dir, printed).
 *
 * Without Chromium the browser test prints one line and runs nothing; REQUIRE_BROWSER=1 makes that a failure (CI). The routes' own checks (served when DASHBOARD=on, absent otherwise) run everywhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ConfigError, loadConfig } from '../../src/config';
import { startTestServer, TEST_SECRET, type TestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { BROWSER_REQUIRED, browserMissing, launchChromium, type Browser, type Page } from '../support/browser';

interface Availability {
  allowed: boolean;
  code: string | null;
  message: string | null;
}
const LINE_AVAILABILITY = parse(`query FrontDeskTestLine($id: ID!) { responsibility(id: $id) { canWriteOff { allowed code message } } }`) as TypedDocumentNode<
  { responsibility: { canWriteOff: Availability } | null },
  { id: string }
>;
const PAY = parse(`mutation FrontDeskTestPay($input: RecordPaymentInput!) { recordPayment(input: $input) { userErrors { code message } } }`) as TypedDocumentNode<
  { recordPayment: { userErrors: { code: string; message: string }[] } },
  { input: Record<string, unknown> }
>;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { DASHBOARD: 'on' } });
});
afterAll(async () => {
  await server?.stop();
});

const origin = () => server.url.replace(/\/graphql$/, '');

describe('the page’s routes', () => {
  test('DASHBOARD=on|off, on by default in development only', () => {
    const base = { AUTH_JWT_SECRET: TEST_SECRET, DATA_DIR: os.tmpdir() };
    expect(loadConfig({ ...base, NODE_ENV: 'development' }).dashboard).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).dashboard).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'test' }).dashboard).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production', DASHBOARD: 'on' }).dashboard).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: 'development', DASHBOARD: 'off' }).dashboard).toBe(false);
    expect(() => loadConfig({ ...base, DASHBOARD: 'yes' })).toThrow(ConfigError);
  });

  test('with DASHBOARD=on: the page at / and /patients/<id>, its script, graphql-ws’s browser build, no development token with a configured secret', async () => {
    for (const route of ['/', '/patients/some-id']) {
      const response = await fetch(origin() + route);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      expect(await response.text()).toContain('/dashboard/app.js');
    }
    const app = await fetch(`${origin()}/dashboard/app.js`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    const library = await fetch(`${origin()}/dashboard/graphql-ws.js`);
    expect(library.status).toBe(200);
    expect(await library.text()).toContain('graphqlWs');
    expect(await (await fetch(`${origin()}/dashboard/config.json`)).json()).toEqual({ devToken: null });
    expect((await fetch(`${origin()}/dashboard/nothing.js`)).status).toBe(404);
  });

  test('in development with the generated secret: on by default, and the sign-in form is prefilled with a token the API accepts', async () => {
    const dev = await startTestServer({ env: { NODE_ENV: 'development', AUTH_JWT_SECRET: '', SEED_DEMO: 'false' } });
    try {
      const base = dev.url.replace(/\/graphql$/, '');
      expect((await fetch(`${base}/`)).status).toBe(200);
      const { devToken } = (await (await fetch(`${base}/dashboard/config.json`)).json()) as { devToken: string | null };
      expect(typeof devToken).toBe('string');
      const answer = await fetch(dev.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${devToken}` },
        body: JSON.stringify({ query: '{ writeOffReasons { code } }' }),
      });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { data: { writeOffReasons: unknown[] } }).data.writeOffReasons.length).toBeGreaterThan(0);
    } finally {
      await dev.stop();
    }
  });

  test('off by default outside development: / is not served', async () => {
    const plain = await startTestServer();
    try {
      const base = plain.url.replace(/\/graphql$/, '');
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/dashboard/app.js`)).status).toBe(404);
      expect((await fetch(`${base}/dashboard/config.json`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

const missing = browserMissing();
if (missing && !BROWSER_REQUIRED) process.stdout.write(`front-desk browser test not run: ${missing}\n`);
const browserTest = missing && !BROWSER_REQUIRED ? test.skip : test;

browserTest('two pages on one patient: a write-off in one shows in the other within a second; the paid line’s Write Off is disabled with its tooltip; Remove Write Off restores both', async () => {
  if (missing) throw new Error(`REQUIRE_BROWSER=1 but ${missing}`);
  const shots = process.env.SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'front-desk-screenshots-'));
  fs.mkdirSync(shots, { recursive: true });
  process.stdout.write(`front-desk screenshots: ${shots}\n`);

  const manager = await server.caller('BILLING_MANAGER');
  const patientId = await newPatient(server, manager, 'Browser', 'Tester');
  const { lineIds } = await newCharge(server, manager, patientId, [10_000, 5_000], 50_000);
  const [openLine, paidLine] = lineIds;
  const paid = await server.ok(manager, PAY, { input: { patientId, amountCents: 5_000, method: 'CASH', allocations: [{ responsibilityId: paidLine, amountCents: 5_000 }] } });
  expect(paid.recordPayment.userErrors).toEqual([]);
  const tooltip = (await server.ok(manager, LINE_AVAILABILITY, { id: paidLine })).responsibility!.canWriteOff;
  expect(tooltip).toMatchObject({ allowed: false, code: 'PR_ALREADY_PAID' });

  let browser: Browser | null = null;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    /** The queries each page sent over its WebSockets, by operation name (a screen must read itself once on open). */
    const queriesSent = new Map<Page, string[]>();
    const sentBy = (page: Page, name: string) => queriesSent.get(page)!.filter((sent) => sent === name).length;
    const open = async (sub: string): Promise<Page> => {
      const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const sent: string[] = [];
      queriesSent.set(page, sent);
      page.on('websocket', (socket) =>
        socket.on('framesent', ({ payload }) => {
          const message = JSON.parse(String(payload)) as { type?: string; payload?: { query?: string } };
          const name = message.type === 'subscribe' ? /^\s*query\s+(\w+)/.exec(message.payload?.query ?? '')?.[1] : undefined;
          if (name) sent.push(name);
        }),
      );
      page.on('pageerror', (error) => void problems.push(`${sub}: ${error.message}`));
      page.on('console', (message) => void (message.type() === 'error' && problems.push(`${sub}: ${message.text()}`)));
      const caller = await server.caller('BILLING_MANAGER', server.practice, sub);
      await page.goto(`${origin()}/patients/${encodeURIComponent(patientId)}?token=${encodeURIComponent(caller.token)}`);
      return page;
    };
    const one = await open('front-desk-one');
    const two = await open('front-desk-two');
    const pages = [one, two];
    /** Waits until the patient's own outstanding (outside any PR line) reads `text`; returns how long that took. */
    const shows = async (page: Page, text: string, timeout = 10_000): Promise<number> => {
      const started = Date.now();
      await page.waitForFunction(
        (want: string) => {
          // Runs in the page (the project's types have no DOM).
          const page = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null; closest(selector: string): unknown }> } }).document;
          const all = Array.from(page.querySelectorAll('[data-testid="outstanding"]')).filter((e) => !e.closest('[data-testid="pr-line"]'));
          return all.length === 1 && all[0].textContent === want;
        },
        text,
        { timeout, polling: 10 },
      );
      return Date.now() - started;
    };
    const shoot = async (step: string) => {
      for (const [i, page] of pages.entries()) await page.screenshot({ path: path.join(shots, `${step}-page-${i + 1}.png`), fullPage: true });
    };

    // 1. Both pages show the patient: $150.00 of PR, $50.00 paid, $100.00 outstanding.
    for (const page of pages) await shows(page, '$100.00');
    for (const page of pages) await page.locator(`[data-testid="pr-line"][data-line-id="${paidLine}"] [data-testid="write-off"]`).waitFor();
    for (const page of pages) expect(sentBy(page, 'FrontDeskPatient')).toBe(1);
    await shoot('01-opened');

    // 2. The paid line's Write Off is disabled, with the server's PR_ALREADY_PAID tooltip as its title.
    const paidWriteOff = one.locator(`[data-testid="pr-line"][data-line-id="${paidLine}"] [data-testid="write-off"]`);
    expect(await paidWriteOff.isDisabled()).toBe(true);
    expect(await paidWriteOff.getAttribute('title')).toBe(tooltip.message);
    await paidWriteOff.hover({ force: true });
    const openWriteOff = one.locator(`[data-testid="pr-line"][data-line-id="${openLine}"] [data-testid="write-off"]`);
    expect(await openWriteOff.isDisabled()).toBe(false);
    await shoot('02-paid-line-disabled');

    // 3. A write-off of $25.50 (typed in dollars) in page one.
    await openWriteOff.click();
    await one.locator('[data-testid="write-off-amount"]').fill('25.50');
    await one.locator('[data-testid="write-off-reason"]').selectOption('SMALL_BALANCE');
    await one.locator('[data-testid="write-off-note"]').fill('written off from the browser test');
    await shoot('03-write-off-form');
    await one.locator('[data-testid="write-off-confirm"]').click();
    const clicked = Date.now();
    await shows(two, '$74.50', 1_000);
    expect(Date.now() - clicked).toBeLessThan(1_000);
    await shows(one, '$74.50');
    const removeInTwo = two.locator(`[data-testid="pr-line"][data-line-id="${openLine}"] [data-testid="remove-write-off"]`);
    await removeInTwo.waitFor();
    expect(await removeInTwo.getAttribute('data-write-off-id')).toBeTruthy();
    await shoot('04-written-off');

    // 4. Remove Write Off in page two restores $100.00 in both.
    await removeInTwo.click();
    await two.locator('[data-testid="remove-write-off-reason"]').fill('entered in error');
    await shoot('05-remove-form');
    await two.locator('[data-testid="remove-write-off-confirm"]').click();
    const removed = Date.now();
    await shows(one, '$100.00', 1_000);
    expect(Date.now() - removed).toBeLessThan(1_000);
    await shows(two, '$100.00');
    await one.locator('[data-testid="remove-write-off"]').waitFor({ state: 'detached' });
    await shoot('06-restored');

    // 5. The patients list shows the patient's row with its outstanding.
    await one.goto(`${origin()}/`);
    const row = one.locator(`[data-testid="patient-row"][data-patient-id="${patientId}"] [data-testid="outstanding"]`);
    await row.waitFor();
    expect(await row.textContent()).toBe('$100.00');
    expect(sentBy(one, 'FrontDeskPatients')).toBe(1);
    await shoot('07-patients');

    expect(problems).toEqual([]);
  } finally {
    await browser?.close();
  }
});
