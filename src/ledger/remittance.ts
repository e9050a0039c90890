import { Refusal, RefusalCode, refusal } from './codes';
import { isPositiveCents, sumCents } from './money';
import { exceedsCharge } from './charge';
import { openCents } from './lines';
import { AllocationState, LineState, ResponsibilityKind, WriteOffState } from './types';

export const ADJUSTMENT_GROUPS = ['PR', 'CO', 'OA', 'PI'] as const;

/** Claim adjustment reason code → PR kind (DESIGN §2.1): 1 deductible, 2 coinsurance, 3 copay, 96/204 non-covered. */
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
  /** Write-offs still active on superseded lines: reversed so those lines can be cancelled. */
  reversals: { writeOffId: string; cents: number }[];
  /** Money taken off superseded lines. */
  reductions: { allocationId: string; cents: number }[];
  /** Where that money goes: a new line (by index into `newLines`) or an existing line of the charge. */
  moves: { paymentId: string; target: { newLine: number } | { responsibilityId: string }; cents: number }[];
}

const REASON_CODE = /^[A-Z0-9]{1,5}$/;

/** Normalises and checks adjustments: known group, a CARC-shaped reason code, a positive amount. */
export function checkAdjustments(adjustments: readonly Adjustment[]): Adjustment[] | Refusal {
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

/**
 * Plans recording a remittance for one charge (DESIGN §2.8): PR adjustments become REMITTANCE lines, the charge's
 * active ESTIMATED lines are superseded, and their payments move to the new lines (same kind first, then any line of
 * the charge); what does not fit stays with the payment as credit.
 */
export function planRemittance(
  charge: { billedCents: number; lines: readonly LineState[] },
  adjustments: readonly Adjustment[],
  allocations: readonly (AllocationState & { paymentId: string })[],
  writeOffs: readonly WriteOffState[],
): RemittancePlan | Refusal {
  const checked = checkAdjustments(adjustments);
  if (!Array.isArray(checked)) return checked;
  const newLines = checked
    .filter((a) => a.groupCode === 'PR')
    .map((a) => ({ kind: kindForReasonCode(a.reasonCode), reasonCode: a.reasonCode, amountCents: a.amountCents }));
  const superseded = charge.lines.filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
  const supersededIds = new Set(superseded.map((l) => l.id));
  const remaining = charge.lines.filter((l) => l.status === 'ACTIVE' && !supersededIds.has(l.id));
  const total = sumCents(remaining.map((l) => l.amountCents)) + sumCents(newLines.map((l) => l.amountCents));
  if (total > charge.billedCents) return exceedsCharge(charge.billedCents, ['input', 'adjustments']);

  const reversals = writeOffs
    .filter((w) => supersededIds.has(w.responsibilityId) && w.activeCents > 0)
    .map((w) => ({ writeOffId: w.id, cents: w.activeCents }));

  // Room left on each possible target, new lines first, then the charge's other active lines.
  const newRoom = newLines.map((l) => l.amountCents);
  const existingRoom = new Map(remaining.map((l) => [l.id, openCents(l)]));
  const kindOf = new Map(superseded.map((l) => [l.id, l.kind]));
  const reductions: RemittancePlan['reductions'] = [];
  const moves: RemittancePlan['moves'] = [];
  const moving = allocations.filter((a) => supersededIds.has(a.responsibilityId) && a.remainingCents > 0).sort((a, b) => a.sequence - b.sequence);
  for (const allocation of moving) {
    reductions.push({ allocationId: allocation.id, cents: allocation.remainingCents });
    let left = allocation.remainingCents;
    const kind = kindOf.get(allocation.responsibilityId);
    const order = [
      ...newLines.map((l, i) => ({ i, sameKind: l.kind === kind })).sort((a, b) => Number(b.sameKind) - Number(a.sameKind)),
    ];
    for (const { i } of order) {
      const cents = Math.min(left, newRoom[i]);
      if (cents <= 0) continue;
      moves.push({ paymentId: allocation.paymentId, target: { newLine: i }, cents });
      newRoom[i] -= cents;
      left -= cents;
    }
    for (const [responsibilityId, room] of existingRoom) {
      const cents = Math.min(left, room);
      if (cents <= 0) continue;
      moves.push({ paymentId: allocation.paymentId, target: { responsibilityId }, cents });
      existingRoom.set(responsibilityId, room - cents);
      left -= cents;
    }
  }
  return { adjustments: checked, newLines, supersededLineIds: [...supersededIds], reversals, reductions, moves };
}
