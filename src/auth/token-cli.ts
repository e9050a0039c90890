/**
 * Prints a bearer token: npm run token -- --practice <id> --role <role> [--sub <user>] [--expires 12h]
 *
 * The token alone goes to stdout, everything said about it to stderr, so `TOKEN=$(npm run -s token -- ...)` captures
 * exactly the token.
 */
import 'reflect-metadata';
import path from 'node:path';
import { Config, DEFAULT_MAX_TOKEN_LIFETIME, loadConfig, loadDotEnv } from '../config';
import { Database } from '../db/database';
import { signToken } from './tokens';
import { parseDurationSeconds } from './duration';
import { Roles } from './roles';
import { CommandResult, parseOptions } from '../cli/options';
import { databaseFailure, missingSqliteFile } from '../cli/database';

const USAGE = `usage: npm run token -- --practice <id> --role <${Roles.join('|')}> [--sub <user>] [--expires 12h]`;
const OPTIONS = ['practice', 'role', 'sub', 'expires'] as const;

function refusal(problem: string): CommandResult {
  return { code: 2, err: `${problem}\n${USAGE}` };
}


/** Why a token for this practice may be a mistake (a typo in the id, the wrong database), or null when it has data. */
async function noDataWarning(database: Config['database'], practiceId: string): Promise<string | null> {
  if (database.kind === 'sqlite' && database.path === ':memory:') return null;
  const missing = missingSqliteFile(database);
  if (missing) {
    return `Warning: the database ${missing} does not exist yet, so practice ${practiceId} has no data: check DATABASE_URL and DATA_DIR, or start the server once (npm start).`;
  }
  const where = database.kind === 'sqlite' ? database.path : 'the PostgreSQL database';
  let db: Database;
  try {
    db = await Database.connect(database, { migrate: false });
  } catch (error) {
    return `Warning: could not check whether practice ${practiceId} has data in ${where}: ${databaseFailure(error).replace(/\.$/, '')}.`;
  }
  try {
    const rows = await db.query('SELECT 1 AS found FROM patients WHERE practice_id = ? LIMIT 1', [practiceId]);
    if (rows.length > 0) return null;
    return `Warning: practice ${practiceId} has no patients in ${where} yet: check the practice id (for a new practice this is expected).`;
  } finally {
    await db.close();
  }
}

export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  if (argv.includes('--help') || argv.includes('-h')) return { code: 0, out: USAGE };
  const options = parseOptions(argv, OPTIONS);
  if (typeof options === 'string') return refusal(options);
  const { practice: practiceId, expires = '12h' } = options;
  if (!practiceId) return refusal('--practice is required: the practice the token is for, e.g. --practice demo-practice.');
  if (!options.role) return refusal(`--role is required: one of ${Roles.join(', ')}.`);
  const role = Roles.find((known) => known === options.role!.toUpperCase());
  if (!role) return refusal(`Unknown role ${options.role}: use one of ${Roles.join(', ')}.`);
  const config = loadConfig(env);
  if (!config.auth.jwtSecret) return { code: 2, err: 'AUTH_JWT_SECRET is not set: tokens come from your identity provider (AUTH_JWKS_URL).' };
  const lifetime = parseDurationSeconds(expires);
  if (lifetime === null) return { code: 2, err: `--expires ${expires} is not a lifetime: use seconds or a unit, e.g. 90s, 30m, 12h.` };
  // The server would refuse such a token: better said now than at the first request.
  const max = config.auth.maxTokenLifetimeSeconds;
  if (lifetime > max) {
    return { code: 2, err: `--expires ${expires} is longer than the server accepts: at most ${max} seconds (AUTH_MAX_TOKEN_LIFETIME, default ${DEFAULT_MAX_TOKEN_LIFETIME}).` };
  }
  const sub = options.sub ?? `${role.toLowerCase()}-user`;
  const token = await signToken(config.auth.jwtSecret, { sub, practiceId, role }, { expiresIn: `${lifetime}s`, issuer: config.auth.issuer ?? undefined, audience: config.auth.audience ?? undefined });
  const until = new Date(Date.now() + lifetime * 1000).toISOString();
  const about = `Token for practice ${practiceId}, role ${role}, user ${sub}, valid for ${expires} (until ${until}).`;
  const warning = await noDataWarning(config.database, practiceId);
  return { code: 0, out: token, err: warning ? `${about}\n${warning}` : about };
}

if (require.main === module) {
  loadDotEnv(path.resolve('.env'));
  tokenCommand(process.argv.slice(2), process.env).then(
    ({ code, out, err }) => {
      if (err) process.stderr.write(`${err}\n`);
      if (out) process.stdout.write(`${out}\n`);
      process.exit(code);
    },
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
