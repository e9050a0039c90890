/**
 * A real Chromium for browser tests (issue 13): playwright-core driving Debian's Chromium (`/usr/bin/chromium`, or
 * CHROMIUM_PATH), headless, with --no-sandbox and background networking off.
 *
 * When playwright-core or Chromium is missing, `launchChromium` returns why, and the test prints that one line and runs
 * nothing (the only skip this project allows); with REQUIRE_BROWSER=1 (CI) a missing browser fails the test instead.
 *
 * playwright-core is loaded at run time, so the project type-checks without it: the few types used are declared here.
 */
import fs from 'node:fs';

export interface Locator {
  click(options?: { timeout?: number }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  selectOption(value: string, options?: { timeout?: number }): Promise<unknown>;
  hover(options?: { timeout?: number; force?: boolean }): Promise<void>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  isDisabled(options?: { timeout?: number }): Promise<boolean>;
  count(): Promise<number>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  locator(selector: string): Locator;
}

export interface Page {
  goto(url: string, options?: { waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' }): Promise<unknown>;
  locator(selector: string): Locator;
  waitForFunction<A>(fn: (arg: A) => boolean, arg: A, options?: { timeout?: number; polling?: number | 'raf' }): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  close(): Promise<void>;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

interface PlaywrightCore {
  chromium: { launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };
}

export const BROWSER_REQUIRED = process.env.REQUIRE_BROWSER === '1';

/** Where Chromium is expected. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Why no browser test can run here, or null when playwright-core and Chromium are both present. */
export function browserMissing(): string | null {
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install --save-dev --save-exact playwright-core)';
  }
  if (!fs.existsSync(chromiumPath())) return `Chromium is not at ${chromiumPath()} (apt-get install chromium, or set CHROMIUM_PATH)`;
  return null;
}

export async function launchChromium(): Promise<Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const playwright = require('playwright-core') as PlaywrightCore;
  return playwright.chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
