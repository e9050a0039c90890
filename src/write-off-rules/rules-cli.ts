/**
 * Runs every active write-off rule of a practice (docs/design.md §9.2), e.g. nightly from cron:
 *   npm run rules -- --practice <id> [--as-of YYYY-MM-DD]
 *
 * Each rule with qualifying lines becomes a DRAFT ADJUSTMENT batch that staff preview and post; nothing is written off
 * here. The batches it made go to stdout, one line each; what it says about the run goes to stderr. It acts as the
 * system user `rules-cli` with the role BILLING_MANAGER, and reads only the database settings (DATABASE_URL or
 * DATA_DIR), like `npm run migrate`.
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import path from 'node:path';
import { loadDatabaseConfig, loadDotEnv } from '../config';
import { openExistingDatabase } from '../cli/database';
import { InProcessBalanceBus } from '../balances/in-process-bus';
import { createServices } from '../services';
import type { AuditCaller } from '../audit/audit.service';
import { RefusalCode, checkCalendarDate, formatCents, isRefusal } from '../ledger';
import { daysBefore, todayUtc } from './write-off-rule.service';
import { CommandResult, parseOptions } from '../cli/options';

export const RULES_CLI_USER = 'rules-cli';
const USAGE = 'usage: npm run rules -- --practice <id> [--as-of YYYY-MM-DD]';
const OPTIONS = ['practice', 'as-of'] as const;

function usageError(problem: string): CommandResult {
  return { code: 2, err: `${problem}\n${USAGE}` };
}


const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export async function rulesCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  if (argv.includes('--help') || argv.includes('-h')) return { code: 0, out: USAGE };
  const options = parseOptions(argv, OPTIONS);
  if (typeof options === 'string') return usageError(options);
  const practiceId = options.practice?.trim();
  if (!practiceId) return usageError('--practice is required: the practice whose rules to run, e.g. --practice demo-practice.');
  const today = todayUtc();
  let asOf = today;
  if (options['as-of'] !== undefined) {
    const date = checkCalendarDate(options['as-of'], 'as-of date', []);
    if (isRefusal(date)) return usageError(`--as-of ${options['as-of']} is not a date: use YYYY-MM-DD, e.g. 2026-03-14.`);
    if (date > daysBefore(today, -1)) return usageError(`--as-of ${date} is in the future: lines would be written off before they are old enough.`);
    asOf = date;
  }

  const db = await openExistingDatabase(loadDatabaseConfig(env));
  if (typeof db === 'string') return { code: 1, err: db };
  // Drafts change no balance and publish nothing: an in-process bus with no listener is all the services need.
  const services = createServices(db, new InProcessBalanceBus(), { cachePatients: 0, verify: false });
  const caller: AuditCaller = {
    actor: { userId: RULES_CLI_USER, practiceId, role: 'BILLING_MANAGER', expiresAt: Math.floor(Date.now() / 1000) + 3600 },
    requestId: crypto.randomUUID(),
    clientRequestId: null,
  };
  try {
    const runs = await services.writeOffRules.runAll(caller, asOf);
    if (runs.length === 0) return { code: 0, err: `Practice ${practiceId} has no active write-off rules: nothing to run.` };
    const out: string[] = [];
    const err: string[] = [];
    let failed = false;
    let entries = 0;
    let totalCents = 0;
    for (const { rule, outcome } of runs) {
      if (!isRefusal(outcome)) {
        out.push(`Batch ${outcome.batchId}: rule "${rule.name}" (${rule.id}), ${plural(outcome.entries, 'write-off')}, total ${formatCents(outcome.totalCents)}`);
        entries += outcome.entries;
        totalCents += outcome.totalCents;
      } else if (outcome.code === RefusalCode.NOTHING_QUALIFIES) {
        err.push(`Rule "${rule.name}" (${rule.id}): no line qualifies as of ${asOf}; no batch made.`);
      } else {
        failed = true;
        err.push(`Rule "${rule.name}" (${rule.id}) was refused (${outcome.code}): ${outcome.message}`);
      }
    }
    err.push(
      `Ran ${plural(runs.length, 'active rule')} of practice ${practiceId} as of ${asOf}: ${plural(out.length, 'DRAFT batch', 'DRAFT batches')}` +
        (out.length > 0 ? ` with ${plural(entries, 'write-off')}, ${formatCents(totalCents)} in all. Preview and post them in the Posting Tool.` : '.'),
    );
    return { code: failed ? 1 : 0, out: out.length > 0 ? out.join('\n') : undefined, err: err.join('\n') };
  } finally {
    await services.audit.close();
    await db.close();
  }
}

if (require.main === module) {
  loadDotEnv(path.resolve('.env'));
  rulesCommand(process.argv.slice(2), process.env).then(
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
