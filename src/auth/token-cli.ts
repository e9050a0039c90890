/** Prints a bearer token: npm run token -- --practice <id> --role <role> [--sub <user>] [--expires 12h] */
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config';
import { signToken } from './tokens';
import { Roles, isRole } from './roles';

function option(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  loadDotEnv(path.resolve('.env'));
  const config = loadConfig();
  const practiceId = option('practice');
  const role = option('role');
  if (!practiceId || !isRole(role)) {
    console.error(`usage: npm run token -- --practice <id> --role <${Roles.join('|')}> [--sub <user>] [--expires 12h]`);
    process.exit(2);
  }
  if (!config.auth.jwtSecret) {
    console.error('AUTH_JWT_SECRET is not set: tokens come from your identity provider (AUTH_JWKS_URL).');
    process.exit(2);
  }
  const sub = option('sub', `${role.toLowerCase()}-user`)!;
  console.log(await signToken(config.auth.jwtSecret, { sub, practiceId, role }, { expiresIn: option('expires', '12h'), issuer: config.auth.issuer ?? undefined, audience: config.auth.audience ?? undefined }));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
