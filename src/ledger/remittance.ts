import { Refusal, RefusalCode, refusal, refusalOf } from './codes';
import { cleanOptionalText, cleanReason, cleanRemittanceId } from './text';
import { isPositiveCents, sumCents } from './money';
import { exceedsCharge } from './charge';
import { MAX_LINES_PER_PAYMENT, checkAdjustmentCount, checkLinesPerCharge } from './limits';
import { openCents } from './lines';
import { AllocationState, LineState, ResponsibilityKind, WriteOffState } from './types';
import type { LedgerCharge, LedgerRemittance } from './ledger-state';

export const ADJUSTMENT_GROUPS = ['PR', 'CO', 'OA', 'PI'] as const;

/** Claim adjustment reason code → PR kind (docs/design.md §2.1): 1 deductible, 2 coinsurance, 3 copay, 96/204 non-covered. */
export function kindForReasonCode(reasonCode: string): ResponsibilityKind {
  switch (reasonCode) {
    case '1':
      return 'DEDUCTIBLE';
    case '2':
      return 'COINSURANCE';
    case '3':
      return 'COPAY';
    case '96':
    case '204':
      return 'NON_COVERED';
    default:
      return 'OTHER';
  }
}

export interface Adjustment {
  groupCode: string;
  reasonCode: string;
  amountCents: number;
}

export interface NewRemittanceLine {
  kind: ResponsibilityKind;
  reasonCode: string;
  amountCents: number;
}

export interface RemittancePlan {
  adjustments: Adjustment[];
  newLines: NewRemittanceLine[];
  /** Active ESTIMATED lines the remittance supersedes: cancelled. */
  supersededLineIds: string[];
  /** The lines of the remittance this one corrects (§8.3): reversed. */
  reversedLineIds: string[];
  /** Write-offs still active on superseded lines: reversed so those lines can be cancelled. */
  reversals: { writeOffId: string; cents: number }[];
  /** Money taken off superseded lines (SUPERSEDED) and off the corrected remittance's lines (REVERSAL). */
  reductions: { allocationId: string; cents: number; cause: 'SUPERSEDED' | 'REVERSAL' }[];
  /** Where that money goes: a new line (by index into `newLines`) or an existing line of the charge. */
  moves: { paymentId: string; target: { newLine: number } | { responsibilityId: string }; cents: number }[];
}

const REASON_CODE = /^[A-Z0-9]{1,5}$/;

/** Normalises and checks adjustments: not too many, each a known group, a CARC-shaped reason code, a positive amount. */
export function checkAdjustments(adjustments: readonly Adjustment[]): Adjustment[] | Refusal {
  const tooMany = checkAdjustmentCount(adjustments.length);
  if (tooMany) return tooMany;
  const clean: Adjustment[] = [];
  for (const [index, adjustment] of adjustments.entries()) {
    const field = ['input', 'adjustments', String(index)];
    const groupCode = adjustment.groupCode.trim().toUpperCase();
    const reasonCode = adjustment.reasonCode.trim().toUpperCase();
    if (!(ADJUSTMENT_GROUPS as readonly string[]).includes(groupCode)) {
      return refusal(RefusalCode.INVALID_REMITTANCE, `Unknown adjustment group "${groupCode.slice(0, 10)}": use PR, CO, OA or PI.`, [...field, 'groupCode']);
    }
    if (!REASON_CODE.test(reasonCode)) {
      return refusal(RefusalCode.INVALID_REMITTANCE, 'A claim adjustment reason code is 1 to 5 letters or digits, like 1, 2, 3 or 96.', [...field, 'reasonCode']);
    }
    if (!isPositiveCents(adjustment.amountCents)) {
      return refusal(RefusalCode.INVALID_AMOUNT, 'Each adjustment amount must be greater than $0.00.', [...field, 'amountCents']);
    }
    clean.push({ groupCode, reasonCode, amountCents: adjustment.amountCents });
  }
  return clean;
}

/** The remittance a correction replaces (§8.3): optional, a remittance id when given. Returns the cleaned id. */
export function cleanReplacedRemittanceId(replacesRemittanceId: string | null | undefined): string | null | Refusal {
  return cleanOptionalText(replacesRemittanceId, { label: 'remittance id', field: ['input', 'replacesRemittanceId'] });
}

/**
 * What recordRemittance refuses about its input alone, before any row is read (docs/design.md §2.5, §8.1), in the
 * order the mutation checks it: the remittance id, the one it replaces, then the adjustments (checkAdjustments).
 */
export function remittanceInputRefusal(input: { remittanceId: string; replacesRemittanceId?: string | null; adjustments?: readonly Adjustment[] | null }): Refusal | null {
  return refusalOf(cleanRemittanceId(input.remittanceId)) ?? refusalOf(cleanReplacedRemittanceId(input.replacesRemittanceId)) ?? refusalOf(checkAdjustments(input.adjustments ?? []));
}

/** What reverseRemittance refuses about its input alone, in the order the mutation checks it: the remittance id, the reason. */
export function reverseRemittanceInputRefusal(input: { remittanceId: string; reason: string }): Refusal | null {
  return refusalOf(cleanRemittanceId(input.remittanceId)) ?? refusalOf(cleanReason(input.reason));
}

/**
 * Plans recording a remittance for one charge (docs/design.md §2.8): PR adjustments become REMITTANCE lines, the charge's
 * active ESTIMATED lines are superseded, and their payments move to the new lines (same kind first, then any line of
 * the charge); what does not fit stays with the payment as credit. A move never puts a payment on more than
 * MAX_LINES_PER_PAYMENT lines, so `allocations` must be every allocation of the patient's payments.
 */
export function planRemittance(
  charge: { billedCents: number; lines: readonly LineState[] },
  adjustments: readonly Adjustment[],
  allocations: readonly (AllocationState & { paymentId: string })[],
  writeOffs: readonly WriteOffState[],
  replaced: { lineIds: readonly string[] } | null = null,
): RemittancePlan | Refusal {
  const checked = checkAdjustments(adjustments);
  if (!Array.isArray(checked)) return checked;
  const newLines = checked
    .filter((a) => a.groupCode === 'PR')
    .map((a) => ({ kind: kindForReasonCode(a.reasonCode), reasonCode: a.reasonCode, amountCents: a.amountCents }));
  const full = checkLinesPerCharge(charge.lines.length + newLines.length, ['input', 'adjustments']);
  if (full) return full;
  const reversedIds = new Set(replaced?.lineIds ?? []);
  const reversedLines = charge.lines.filter((l) => reversedIds.has(l.id));
  const blocked = reversedLines.find((l) => l.writtenOffCents > 0);
  if (blocked) return writeOffsBlockReversal();
  const superseded = charge.lines.filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
  const supersededIds = new Set(superseded.map((l) => l.id));
  // Every line whose money moves: the estimates and the corrected remittance's lines.
  const emptied = new Set([...supersededIds, ...reversedIds]);
  const remaining = charge.lines.filter((l) => l.status === 'ACTIVE' && !emptied.has(l.id));
  const total = sumCents(remaining.map((l) => l.amountCents)) + sumCents(newLines.map((l) => l.amountCents));
  if (total > charge.billedCents) return exceedsCharge(charge.billedCents, ['input', 'adjustments']);

  const reversals = writeOffs
    .filter((w) => supersededIds.has(w.responsibilityId) && w.activeCents > 0)
    .map((w) => ({ writeOffId: w.id, cents: w.activeCents }));

  // Where moved money can go, with the room left on each: the new lines, then the charge's other active lines.
  // `key` names the line among those a payment sits on.
  const newTargets = newLines.map((l, i) => ({ key: `new line ${i}`, target: { newLine: i }, kind: l.kind, room: l.amountCents }));
  const existingTargets = remaining.map((l) => ({ key: l.id, target: { responsibilityId: l.id }, room: openCents(l) }));
  // The lines each payment sits on once the superseded lines are emptied: a move may not spread it over more.
  const linesOfPayment = new Map<string, Set<string>>();
  const linesOf = (paymentId: string) => linesOfPayment.get(paymentId) ?? linesOfPayment.set(paymentId, new Set()).get(paymentId)!;
  for (const a of allocations) if (a.remainingCents > 0 && !emptied.has(a.responsibilityId)) linesOf(a.paymentId).add(a.responsibilityId);

  const kindOf = new Map([...superseded, ...reversedLines].map((l) => [l.id, l.kind]));
  const reductions: RemittancePlan['reductions'] = [];
  const moves: RemittancePlan['moves'] = [];
  const moving = allocations.filter((a) => emptied.has(a.responsibilityId) && a.remainingCents > 0).sort((a, b) => a.sequence - b.sequence);
  for (const allocation of moving) {
    reductions.push({ allocationId: allocation.id, cents: allocation.remainingCents, cause: reversedIds.has(allocation.responsibilityId) ? 'REVERSAL' : 'SUPERSEDED' });
    let left = allocation.remainingCents;
    const kind = kindOf.get(allocation.responsibilityId);
    const onLines = linesOf(allocation.paymentId);
    const order = [...newTargets.filter((t) => t.kind === kind), ...newTargets.filter((t) => t.kind !== kind), ...existingTargets];
    for (const target of order) {
      const cents = Math.min(left, target.room);
      if (cents <= 0 || (!onLines.has(target.key) && onLines.size >= MAX_LINES_PER_PAYMENT)) continue;
      moves.push({ paymentId: allocation.paymentId, target: target.target, cents });
      onLines.add(target.key);
      target.room -= cents;
      left -= cents;
    }
  }
  return { adjustments: checked, newLines, supersededLineIds: [...supersededIds], reversedLineIds: [...reversedIds], reversals, reductions, moves };
}

function writeOffsBlockReversal(): Refusal {
  return refusal(RefusalCode.PR_HAS_WRITE_OFFS, "Remove the write-offs on this remittance's PR lines first: a reversed line can't keep a write-off.");
}

/**
 * The remittance a reversal or a correction names (docs/design.md §8.3): recorded for this charge and not reversed
 * already. `field` is where the input names it.
 */
export function remittanceToReverse(charge: Pick<LedgerCharge, 'remittances'>, externalId: string, field: readonly string[]): LedgerRemittance | Refusal {
  const remittance = charge.remittances.get(externalId);
  if (!remittance) return refusal(RefusalCode.REMITTANCE_NOT_FOUND, `No remittance ${externalId} was recorded for this charge.`, field);
  if (remittance.reversed) return refusal(RefusalCode.ALREADY_REVERSED, `Remittance ${externalId} was already reversed.`, field);
  return remittance;
}

export interface ReversalPlan {
  /** The remittance's lines: reversed, out of every balance. */
  lineIds: string[];
  /** Payments on them: released to the patient's credit. */
  releases: { allocationId: string; cents: number }[];
}

/** Plans reversing a remittance's PR (docs/design.md §8.3): refused while any of its lines has an active write-off. */
export function planReverseRemittance(lines: readonly LineState[], allocations: readonly AllocationState[]): ReversalPlan | Refusal {
  if (lines.some((l) => l.writtenOffCents > 0)) return writeOffsBlockReversal();
  const ids = new Set(lines.map((l) => l.id));
  return {
    lineIds: [...ids],
    releases: allocations.filter((a) => ids.has(a.responsibilityId) && a.remainingCents > 0).map((a) => ({ allocationId: a.id, cents: a.remainingCents })),
  };
}
