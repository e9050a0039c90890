import crypto from 'node:crypto';
import type { Database } from '../db/database';
import { type AuditCaller, type AuditService, patientsOf } from '../audit/audit.service';
import { Permission, roleCan } from '../auth/roles';
import type { PostingService } from '../posting/posting.service';
import {
  MAX_ENTRIES_PER_BATCH,
  MAX_NOTE_LENGTH,
  MAX_RULE_KINDS,
  MAX_RULE_MIN_DAYS,
  MAX_TEXT_LENGTH,
  MAX_WRITE_OFF_RULES_PER_PRACTICE,
  Refusal,
  RefusalCode,
  ResponsibilityKind,
  Tooltip,
  WriteOffReason,
  checkCalendarDate,
  checkWriteOffReason,
  cleanText,
  isPositiveCents,
  isRefusal,
  notFound,
  refusal,
  sumCents,
} from '../ledger';
import { CandidateLine, RuleFields, WriteOffRuleView, candidateLines, insertRule, lockPractice, normaliseKinds, ruleById, ruleCount, rulesOf, updateRule } from './rule-store';

export interface CreateRuleCommand {
  name: string;
  reason: WriteOffReason;
  customReason?: string | null;
  maxOpenCents: number;
  minDaysSinceService?: number | null;
  kinds?: ResponsibilityKind[] | null;
}

/** Absent (undefined) leaves a field as it is; null clears `customReason` and `kinds` (every kind) and changes nothing else. */
export interface UpdateRuleCommand {
  ruleId: string;
  name?: string | null;
  reason?: WriteOffReason | null;
  customReason?: string | null;
  maxOpenCents?: number | null;
  minDaysSinceService?: number | null;
  kinds?: ResponsibilityKind[] | null;
  active?: boolean | null;
}

export interface RunRuleCommand {
  ruleId: string;
  /** YYYY-MM-DD; today (UTC) when absent. */
  asOf?: string | null;
}

export type RuleResult = { ruleId: string };
/** A run's DRAFT batch: how many write-offs it proposes and their total. */
export type RunResult = { batchId: string; ruleId: string; ruleName: string; asOf: string; entries: number; totalCents: number };

const DAY_MS = 86_400_000;
const forbidden = (): Refusal => refusal(RefusalCode.FORBIDDEN, Tooltip.FORBIDDEN);

/** Today's date in UTC, YYYY-MM-DD. */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** `date` (YYYY-MM-DD) less `days` days. */
export function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * DAY_MS).toISOString().slice(0, 10);
}

/** At most `max` characters (code points), ending in an ellipsis when cut. */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Write-off rules (docs/design.md §9.2): managed by BILLING_MANAGER and ADMIN, deactivated but never deleted; a run
 * proposes a DRAFT ADJUSTMENT batch of write-offs that staff preview and post (§8.1). Nothing here posts money.
 */
export class WriteOffRuleService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    private readonly posting: PostingService,
  ) {}

  list(caller: AuditCaller): Promise<WriteOffRuleView[]> {
    return rulesOf(this.db, caller.actor.practiceId);
  }

  get(caller: AuditCaller, ruleId: string): Promise<WriteOffRuleView | null> {
    return ruleById(this.db, caller.actor.practiceId, ruleId);
  }

  async create(caller: AuditCaller, input: CreateRuleCommand): Promise<RuleResult | Refusal> {
    const operation = 'createWriteOffRule';
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    if (!roleCan(caller.actor.role, Permission.REFUND)) return refuse(forbidden());
    if (input.kinds && input.kinds.length > MAX_RULE_KINDS) return refuse(tooManyKinds());
    const fields = checkFields({ ...input, customReason: input.customReason ?? null, minDaysSinceService: input.minDaysSinceService ?? 0, kinds: input.kinds ?? null, active: true });
    if (isRefusal(fields)) return refuse(fields);
    const practiceId = caller.actor.practiceId;
    const ruleId = crypto.randomUUID();
    const full = await this.db.transaction(async (tx) => {
      await lockPractice(tx, practiceId);
      if ((await ruleCount(tx, practiceId)) >= MAX_WRITE_OFF_RULES_PER_PRACTICE) return true;
      await insertRule(tx, { ...fields, id: ruleId, practiceId, at: new Date().toISOString(), by: caller.actor.userId });
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', entityIds: [ruleId] });
      return false;
    });
    if (full) {
      return refuse(
        refusal(
          RefusalCode.TOO_MANY_ITEMS,
          `Your practice already has ${MAX_WRITE_OFF_RULES_PER_PRACTICE} write-off rules, the most it can hold (deactivated ones count): change one of them instead.`,
          ['input'],
        ),
      );
    }
    return { ruleId };
  }

  async update(caller: AuditCaller, input: UpdateRuleCommand): Promise<RuleResult | Refusal> {
    const operation = 'updateWriteOffRule';
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    if (!roleCan(caller.actor.role, Permission.REFUND)) return refuse(forbidden());
    if (input.kinds && input.kinds.length > MAX_RULE_KINDS) return refuse(tooManyKinds());
    const rule = await ruleById(this.db, caller.actor.practiceId, input.ruleId);
    if (!rule) return refuse(notFound('write-off rule', ['input', 'ruleId']));
    const reason = input.reason ?? rule.reason;
    // A reason changed to a standard one drops the old custom reason, unless one is sent (then it is refused).
    const customReason = input.customReason !== undefined ? input.customReason : input.reason && input.reason !== 'OTHER' ? null : rule.customReason;
    const fields = checkFields({
      name: input.name ?? rule.name,
      reason,
      customReason,
      maxOpenCents: input.maxOpenCents ?? rule.maxOpenCents,
      minDaysSinceService: input.minDaysSinceService ?? rule.minDaysSinceService,
      kinds: input.kinds !== undefined ? input.kinds : rule.kinds,
      active: input.active ?? rule.active,
    });
    if (isRefusal(fields)) return refuse(fields);
    await this.db.transaction(async (tx) => {
      await updateRule(tx, caller.actor.practiceId, rule.id, { ...fields, at: new Date().toISOString(), by: caller.actor.userId });
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', entityIds: [rule.id] });
    });
    return { ruleId: rule.id };
  }

  /**
   * Proposes the rule's write-offs as of `asOf` (docs/design.md §9.2): one DRAFT ADJUSTMENT batch, made by the caller,
   * with a WRITE_OFF entry of what is open on each qualifying line, the oldest dates of service first and at most
   * MAX_ENTRIES_PER_BATCH of them. Lines another DRAFT batch already writes off are left to it, so running the rule
   * again proposes the next ones. The batch, its entries and the run's audit event are written in one unit of work,
   * as an 835 import's are (§9.1): a run makes its whole batch or nothing.
   */
  async run(caller: AuditCaller, input: RunRuleCommand): Promise<RunResult | Refusal> {
    const operation = 'runWriteOffRule';
    const refuse = (why: Refusal) => this.refuse(caller, operation, why);
    if (!roleCan(caller.actor.role, Permission.RECORD_REMITTANCE)) return refuse(forbidden());
    const practiceId = caller.actor.practiceId;
    const rule = await ruleById(this.db, practiceId, input.ruleId);
    if (!rule) return refuse(notFound('write-off rule', ['input', 'ruleId']));
    if (!rule.active) {
      return refuse(refusal(RefusalCode.RULE_INACTIVE, `The rule "${rule.name}" is deactivated, so it can't be run. Reactivate it first.`, ['input', 'ruleId']));
    }
    const today = todayUtc();
    const asOf = input.asOf === null || input.asOf === undefined || input.asOf.trim() === '' ? today : checkCalendarDate(input.asOf, 'as-of date', ['input', 'asOf']);
    if (isRefusal(asOf)) return refuse(asOf);
    // A day of leeway for the caller's time zone; a later date would write off lines before they are old enough.
    if (asOf > daysBefore(today, -1)) return refuse(refusal(RefusalCode.INVALID_DATE, "The as-of date can't be in the future.", ['input', 'asOf']));

    const lines = await candidateLines(this.db, practiceId, {
      maxOpenCents: rule.maxOpenCents,
      servedOnOrBefore: daysBefore(asOf, rule.minDaysSinceService),
      kinds: rule.kinds,
      limit: MAX_ENTRIES_PER_BATCH,
    });
    if (lines.length === 0) {
      return refuse(
        refusal(
          RefusalCode.NOTHING_QUALIFIES,
          `No open PR line qualifies for the rule "${rule.name}" as of ${asOf}: nothing to write off. Lines already in a draft batch, and patients with credit (apply it first), are skipped.`,
          ['input', 'ruleId'],
        ),
      );
    }
    const checked = await this.posting.check(caller, proposal(rule, asOf, lines));
    if (isRefusal(checked)) return refuse(checked);
    const now = new Date().toISOString();
    const batchId = await this.db.transaction(async (tx) => {
      const id = await this.posting.insertDraft(tx, caller, checked, now);
      await this.audit.recordIn(tx, caller, { operation, outcome: 'ACCEPTED', ...patientsOf(checked.entries), entityIds: [id, rule.id], occurredAt: now });
      return id;
    });
    return { batchId, ruleId: rule.id, ruleName: rule.name, asOf, entries: lines.length, totalCents: sumCents(lines.map((l) => l.openCents)) };
  }

  /** Every active rule of the caller's practice, oldest first, each run as of `asOf` (the rules CLI). */
  async runAll(caller: AuditCaller, asOf?: string | null): Promise<{ rule: WriteOffRuleView; outcome: RunResult | Refusal }[]> {
    const done: { rule: WriteOffRuleView; outcome: RunResult | Refusal }[] = [];
    for (const rule of await rulesOf(this.db, caller.actor.practiceId, { activeOnly: true })) {
      done.push({ rule, outcome: await this.run(caller, { ruleId: rule.id, asOf }) });
    }
    return done;
  }

  private async refuse(caller: AuditCaller, operation: string, why: Refusal): Promise<Refusal> {
    await this.audit.record(caller, { operation, outcome: 'REFUSED', code: why.code });
    return why;
  }
}

function tooManyKinds(): Refusal {
  return refusal(RefusalCode.TOO_MANY_ITEMS, `A rule names at most ${MAX_RULE_KINDS} PR kinds, each once.`, ['input', 'kinds']);
}

/** A rule's fields as §2.5 checks text and amounts, in the order of the input; the cleaned values. */
function checkFields(input: RuleFields): RuleFields | Refusal {
  const name = cleanText(input.name, { label: 'rule name', field: ['input', 'name'] });
  if (isRefusal(name)) return name;
  const customReason = checkWriteOffReason(input.reason, input.customReason);
  if (isRefusal(customReason)) return customReason;
  if (!isPositiveCents(input.maxOpenCents)) {
    return refusal(RefusalCode.INVALID_AMOUNT, 'Enter the largest open amount the rule writes off: more than $0.00, in whole cents.', ['input', 'maxOpenCents']);
  }
  const days = input.minDaysSinceService;
  if (!Number.isSafeInteger(days) || days < 0 || days > MAX_RULE_MIN_DAYS) {
    return refusal(RefusalCode.INVALID_AMOUNT, `Enter the minimum age as a whole number of days from 0 to ${MAX_RULE_MIN_DAYS.toLocaleString('en-US')}.`, ['input', 'minDaysSinceService']);
  }
  return { ...input, name, customReason, kinds: normaliseKinds(input.kinds) };
}

/** The run's DRAFT ADJUSTMENT batch (§9.2): a write-off of what is open on each line, with the rule's reason and a note naming it. */
function proposal(rule: WriteOffRuleView, asOf: string, lines: readonly CandidateLine[]) {
  const note = clip(`Proposed by the write-off rule "${rule.name}" as of ${asOf}.`, MAX_NOTE_LENGTH);
  const entries = lines.map((line) => ({
    writeOff: { responsibilityId: line.lineId, amountCents: line.openCents, reason: rule.reason, customReason: rule.customReason, note },
  }));
  const reference = `Rule "${clip(rule.name, MAX_TEXT_LENGTH - `Rule "" as of ${asOf}`.length)}" as of ${asOf}`;
  return { kind: 'ADJUSTMENT' as const, reference, entries };
}
