/**
 * Runs before `npm start`, `npm run migrate` and `npm run token`. Where TypeScript is installed (development) it builds
 * dist/ from src/, as `npm run build` does. A production install (`npm ci --omit=dev`) has no TypeScript: it runs the
 * dist/ made by the build step, and without one stops with a line saying how to make it.
 *
 * The compiler's output goes to stderr, so that stdout carries only what the command itself prints
 * (`TOKEN=$(npm run -s token -- ...)`).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function typescriptCompiler() {
  try {
    return require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    return null;
  }
}

const tsc = typescriptCompiler();
if (tsc && fs.existsSync(path.join(root, 'src'))) {
  const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  process.exit(build.status ?? 1);
}
if (!fs.existsSync(path.join(root, 'dist', 'src', 'main.js'))) {
  process.stderr.write(
    'There is no build to run: dist/ is missing and TypeScript is not installed (it is a dev dependency). ' +
      'Build before installing for production: npm ci && npm run build && npm ci --omit=dev. For development: npm install.\n',
  );
  process.exit(1);
}
