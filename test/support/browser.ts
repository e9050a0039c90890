/**
 * A real Chromium for browser tests (issue 13): playwright-core driving Debian's Chromium (`/usr/bin/chromium`, or
 * CHROMIUM_PATH), headless, with --no-sandbox and background networking off.
 *
 * When Chromium is missing, `browserMissing` says why, and the test prints that one line and runs nothing (the only
 * skip this project allows); with REQUIRE_BROWSER=1 (CI) a missing browser fails the test instead.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export type { Browser, Page };

export const BROWSER_REQUIRED = process.env.REQUIRE_BROWSER === '1';

/** Where Chromium is expected. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Why no browser test can run here, or null when Chromium is present. */
export function browserMissing(): string | null {
  if (!fs.existsSync(chromiumPath())) return `Chromium is not at ${chromiumPath()} (apt-get install chromium, or set CHROMIUM_PATH)`;
  return null;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
