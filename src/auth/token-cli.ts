/** Prints a bearer token: npm run token -- --practice <id> --role <role> [--sub <user>] [--expires 12h] */
import path from 'node:path';
import { DEFAULT_MAX_TOKEN_LIFETIME, loadConfig, loadDotEnv } from '../config';
import { signToken } from './tokens';
import { parseDurationSeconds } from './duration';
import { Roles, isRole } from './roles';

/** What the command prints (`out` on stdout, `err` on stderr) and its exit code. */
export interface CommandResult {
  code: number;
  out?: string;
  err?: string;
}

export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  const option = (name: string, fallback?: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : fallback;
  };
  const config = loadConfig(env);
  const practiceId = option('practice');
  const role = option('role');
  if (!practiceId || !isRole(role)) {
    return { code: 2, err: `usage: npm run token -- --practice <id> --role <${Roles.join('|')}> [--sub <user>] [--expires 12h]` };
  }
  if (!config.auth.jwtSecret) return { code: 2, err: 'AUTH_JWT_SECRET is not set: tokens come from your identity provider (AUTH_JWKS_URL).' };
  const expires = option('expires', '12h')!;
  const lifetime = parseDurationSeconds(expires);
  if (lifetime === null) return { code: 2, err: `--expires ${expires} is not a lifetime: use seconds or a unit, e.g. 90s, 30m, 12h.` };
  // The server would refuse such a token: better said now than at the first request.
  const max = config.auth.maxTokenLifetimeSeconds;
  if (lifetime > max) {
    return { code: 2, err: `--expires ${expires} is longer than the server accepts: at most ${max} seconds (AUTH_MAX_TOKEN_LIFETIME, default ${DEFAULT_MAX_TOKEN_LIFETIME}).` };
  }
  const sub = option('sub', `${role.toLowerCase()}-user`)!;
  const token = await signToken(config.auth.jwtSecret, { sub, practiceId, role }, { expiresIn: `${lifetime}s`, issuer: config.auth.issuer ?? undefined, audience: config.auth.audience ?? undefined });
  return { code: 0, out: token };
}

if (require.main === module) {
  loadDotEnv(path.resolve('.env'));
  tokenCommand(process.argv.slice(2), process.env).then(
    ({ code, out, err }) => {
      if (out) console.log(out);
      if (err) console.error(err);
      process.exit(code);
    },
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
