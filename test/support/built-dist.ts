/**
 * The built server (`dist/`, as `npm run build` makes it) for tests that run its programs as child processes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than a source file; returns the path of dist/src. */
export function ensureBuilt(): string {
  const main = path.join(DIST, 'src', 'main.js');
  if (fs.existsSync(main) && newestSource(path.join(ROOT, 'src')) <= fs.statSync(main).mtimeMs) return path.join(DIST, 'src');
  const started = Date.now();
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    // tsc still writes JavaScript when it finds type errors (`npm run typecheck` is where those fail): only a build
    // that wrote nothing is a failure here.
    if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < started - 1000) {
      throw new Error(`the server does not build:\n${String((error as { stdout?: Buffer }).stdout ?? error)}`);
    }
  }
  return path.join(DIST, 'src');
}
