/**
 * From a parsed 835 to proposed DRAFT REMITTANCE batches (docs/design.md §9.1): claims matched to the practice's
 * charges, each matched service line an entry, reversals paired with their corrections, and everything that cannot be
 * posted safely an issue on the batch instead. Pure: the candidate charges are read by the caller.
 *
 * Nothing is guessed. A claim is proposed whole or not at all; a reversal and the corrected claim that follows it are
 * proposed together or not at all.
 */
import type { Era835, EraAdjustment, EraClaim, EraPayment, EraServiceLine } from './era835';
import {
  ADJUSTMENT_GROUPS,
  Adjustment,
  MAX_ADJUSTMENTS_PER_REMITTANCE,
  MAX_ENTRIES_PER_ADD,
  MAX_ENTRIES_PER_BATCH,
  MAX_ISSUES_PER_BATCH,
  MAX_LINES_PER_REMITTANCE_ENTRY,
  MAX_PREVIEW_LINES,
  formatCents,
  sumCents,
} from '../ledger';

/** Issue codes an import can put on a batch (docs/design.md §9.1). */
export const IssueCode = {
  CLAIM_NOT_FOUND: 'CLAIM_NOT_FOUND',
  AMBIGUOUS_MATCH: 'AMBIGUOUS_MATCH',
  DENIED: 'DENIED',
  UNBALANCED: 'UNBALANCED',
  REVERSAL_WITHOUT_ORIGINAL: 'REVERSAL_WITHOUT_ORIGINAL',
  CLAIM_LEVEL_PR: 'CLAIM_LEVEL_PR',
  UNBALANCED_PAYMENT: 'UNBALANCED_PAYMENT',
  /** The charge already has a remittance with the id this service line would get: it was posted before. */
  DUPLICATE_REMITTANCE: 'DUPLICATE_REMITTANCE',
  /** A claim status the ledger does not post (e.g. 23 forwarded, 25 predetermination). */
  UNSUPPORTED_STATUS: 'UNSUPPORTED_STATUS',
  /** An adjustment recordRemittance cannot take: negative PR outside a reversal, a malformed reason code, too many. */
  INVALID_ADJUSTMENT: 'INVALID_ADJUSTMENT',
  /** A claim with more service lines than one batch can hold. */
  TOO_MANY_SERVICE_LINES: 'TOO_MANY_SERVICE_LINES',
} as const;
export type IssueCode = (typeof IssueCode)[keyof typeof IssueCode];

export interface RemittanceIssue {
  code: IssueCode;
  message: string;
  claimNumber: string | null;
  payerClaimNumber: string | null;
  segment: number | null;
}

/** A recorded remittance on a candidate charge: what a reversal in the file may refer to. */
export interface MatchableRemittance {
  externalId: string;
  adjustments: readonly Adjustment[];
  reversed: boolean;
}

/** A charge of the practice a claim may match (src/ledger-store/era-store.ts reads them). */
export interface MatchableCharge {
  id: string;
  patientId: string;
  claimNumber: string | null;
  lineControlNumber: string | null;
  procedureCode: string;
  serviceDate: string;
  remittances: readonly MatchableRemittance[];
}

export interface ProposedRemittance {
  chargeId: string;
  remittanceId: string;
  adjustments: Adjustment[];
  replacesRemittanceId?: string;
}
export interface ProposedReversal {
  chargeId: string;
  remittanceId: string;
  reason: string;
}
/** A posting entry (docs/design.md §8.1): exactly one member set. */
export type ProposedEntry = { remittance: ProposedRemittance } | { reverseRemittance: ProposedReversal };

export interface ProposedBatch {
  /** The payment's position in the file, from 0. */
  paymentIndex: number;
  /** A payment too large for one batch is split into parts, in claim order (see ENTRIES_PER_IMPORTED_BATCH). */
  part: number;
  parts: number;
  reference: string;
  payerName: string | null;
  depositDate: string | null;
  /** BPR02 (shown, not balanced against PR); on the first part only, so that the parts do not add up to more. */
  expectedTotalCents: number | null;
  entries: ProposedEntry[];
  issues: RemittanceIssue[];
}

/**
 * The most entries one imported batch holds: a batch's preview lists every line it can touch, and posting counts
 * MAX_LINES_PER_REMITTANCE_ENTRY lines for each remittance entry (src/posting/posting.service.ts, lineBudget).
 */
export const ENTRIES_PER_IMPORTED_BATCH = Math.min(MAX_ENTRIES_PER_ADD, MAX_ENTRIES_PER_BATCH, Math.floor(MAX_PREVIEW_LINES / MAX_LINES_PER_REMITTANCE_ENTRY));

/** CLP02 values that mean "processed" (as primary, secondary, tertiary; and forwarded to another payer). */
const PROCESSED = new Set(['1', '2', '3', '19', '20', '21']);
const DENIED = '4';
const REVERSAL = '22';
const REASON_CODE = /^[A-Z0-9]{1,5}$/;

/** What a payment is known by: the payer (its id, or without one its name) and TRN02. */
export function paymentKey(payment: EraPayment): { payerKey: string; traceNumber: string } {
  const payer = (payment.payerId ?? '').trim() || (payment.payerName ?? '').trim();
  return { payerKey: payer.toUpperCase().replace(/\s+/g, ' ').slice(0, 255), traceNumber: payment.traceNumber.trim() };
}

/** How a payment is named to a biller: "payment 12345 from ACME HEALTH". */
export function describePayment(payment: EraPayment): string {
  const payer = plain(payment.payerName) ?? plain(payment.payerId);
  return `payment ${plain(payment.traceNumber) ?? '(no trace number)'}${payer ? ` from ${payer}` : ''}`;
}

/** The first payment that appears twice in the file (same payer and TRN02), with the one it repeats. */
export function repeatedPayment(era: Era835): { first: EraPayment; again: EraPayment } | null {
  const seen = new Map<string, EraPayment>();
  for (const payment of era.payments) {
    const { payerKey, traceNumber } = paymentKey(payment);
    const key = `${payerKey}\u0000${traceNumber}`;
    const first = seen.get(key);
    if (first) return { first, again: payment };
    seen.set(key, payment);
  }
  return null;
}

/** The claim numbers and line control numbers a file's claims may match on: what to read candidate charges by. */
export function matchKeys(era: Era835): { claimNumbers: string[]; lineControlNumbers: string[] } {
  const claimNumbers = new Set<string>();
  const lineControlNumbers = new Set<string>();
  for (const payment of era.payments) {
    for (const claim of payment.claims) {
      if (claim.claimNumber.trim()) claimNumbers.add(claim.claimNumber.trim());
      for (const line of claim.serviceLines) if (line.lineControlNumber?.trim()) lineControlNumbers.add(line.lineControlNumber.trim());
    }
  }
  return { claimNumbers: [...claimNumbers], lineControlNumbers: [...lineControlNumbers] };
}

/** Every payment of the file as one DRAFT batch (or, when too large for one, consecutive parts), in file order. */
export function proposeBatches(era: Era835, charges: readonly MatchableCharge[]): ProposedBatch[] {
  const index = new ChargeIndex(charges);
  return era.payments.flatMap((payment, paymentIndex) => proposePayment(payment, paymentIndex, index));
}

// ---------------------------------------------------------------------------------------------------------------
// One payment

/** What one claim (or one reversal with its correction) contributes to its payment's batch. */
interface Unit {
  entries: ProposedEntry[];
  issues: RemittanceIssue[];
}

function proposePayment(payment: EraPayment, paymentIndex: number, index: ChargeIndex): ProposedBatch[] {
  const paymentIssues: RemittanceIssue[] = [];
  if (!payment.balanced) paymentIssues.push(unbalancedPayment(payment));

  const corrections = pairReversals(payment.claims);
  const pairedCorrections = new Set(corrections.values());
  const units: (Unit & { claim: EraClaim })[] = [];
  payment.claims.forEach((claim, i) => {
    if (pairedCorrections.has(i)) return; // proposed with its reversal
    const context = { payment, ordinal: i + 1 };
    if (claim.statusCode === REVERSAL) {
      const j = corrections.get(i);
      units.push({ claim, ...(j === undefined ? reversalAlone(claim, context, index) : reversalWithCorrection(claim, payment.claims[j], context, { payment, ordinal: j + 1 }, index)) });
    } else {
      const matched = matchClaim(claim, context, index);
      units.push({ claim, ...('issue' in matched ? { entries: [], issues: [matched.issue] } : { entries: matched.lines.map((l) => ({ remittance: remittanceOf(l) })), issues: [] }) });
    }
  });

  // Split in claim order when one batch cannot hold it all; a unit is never split.
  const parts: Unit[] = [{ entries: [], issues: paymentIssues }];
  for (const proposed of units) {
    const unit = proposed.entries.length > ENTRIES_PER_IMPORTED_BATCH ? tooLargeForABatch(proposed.claim, proposed.entries.length) : proposed;
    const current = parts[parts.length - 1];
    const full = current.entries.length + unit.entries.length > ENTRIES_PER_IMPORTED_BATCH || current.issues.length + unit.issues.length > MAX_ISSUES_PER_BATCH;
    if (full && (current.entries.length || current.issues.length)) {
      parts.push({ entries: [...unit.entries], issues: [...unit.issues] });
    } else {
      current.entries.push(...unit.entries);
      current.issues.push(...unit.issues);
    }
  }
  const trace = plain(payment.traceNumber) ?? '';
  return parts.map((part, k) => ({
    paymentIndex,
    part: k + 1,
    parts: parts.length,
    reference: parts.length === 1 ? trace : `${trace} (part ${k + 1} of ${parts.length})`,
    payerName: plain(payment.payerName),
    depositDate: payment.depositDate,
    expectedTotalCents: k === 0 && Number.isSafeInteger(payment.paymentCents) && payment.paymentCents >= 0 ? payment.paymentCents : null,
    entries: part.entries,
    issues: part.issues,
  }));
}

/**
 * Each reversal (CLP02 22) and the corrected claim that follows it in the payment: the first later claim with the same
 * patient control number (CLP01) that was processed and is not already paired. Indexes into `claims`.
 */
function pairReversals(claims: readonly EraClaim[]): Map<number, number> {
  const pairs = new Map<number, number>();
  const taken = new Set<number>();
  claims.forEach((claim, i) => {
    if (claim.statusCode !== REVERSAL) return;
    for (let j = i + 1; j < claims.length; j++) {
      if (taken.has(j) || claims[j].claimNumber !== claim.claimNumber || !PROCESSED.has(claims[j].statusCode)) continue;
      pairs.set(i, j);
      taken.add(j);
      return;
    }
  });
  return pairs;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching a claim to charges

interface ClaimContext {
  payment: EraPayment;
  /** The claim's ordinal in its payment, from 1. */
  ordinal: number;
}

/** One service line (or a claim without service lines) matched to one charge, with the adjustments its entry records. */
interface MatchedLine {
  charge: MatchableCharge;
  remittanceId: string;
  adjustments: Adjustment[];
  /** Σ PR of the line, claim-level PR included (negated back for a reversal). */
  prCents: number;
}

type ClaimMatch = { lines: MatchedLine[] } | { issue: RemittanceIssue };

class ChargeIndex {
  private readonly byClaim = new Map<string, MatchableCharge[]>();
  private readonly byLine = new Map<string, MatchableCharge[]>();

  constructor(charges: readonly MatchableCharge[]) {
    for (const charge of charges) {
      if (charge.claimNumber) push(this.byClaim, charge.claimNumber.trim(), charge);
      if (charge.lineControlNumber) push(this.byLine, charge.lineControlNumber.trim(), charge);
    }
  }

  withClaimNumber(claimNumber: string): readonly MatchableCharge[] {
    return this.byClaim.get(claimNumber.trim()) ?? [];
  }

  withLineControlNumber(lineControlNumber: string): readonly MatchableCharge[] {
    return this.byLine.get(lineControlNumber.trim()) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Matches a claim whole, or answers the one issue that keeps it out of the batch. The checks run in a fixed order:
 * status, balancing, claim-level PR, the match of every service line, the adjustments, and remittances already
 * recorded. `negate` reads a reversal's negated amounts back as the original's.
 */
function matchClaim(claim: EraClaim, context: ClaimContext, index: ChargeIndex, negate = false): ClaimMatch {
  const issue = (code: IssueCode, message: string, segment = claim.segment): ClaimMatch => ({ issue: issueOn(claim, code, message, segment) });
  const name = claimName(claim);
  if (claim.statusCode === DENIED) {
    return issue(IssueCode.DENIED, `${name} was denied by the payer (CLP02 4): there is no PR to post. Work the denial by hand (appeal, or bill the patient).`);
  }
  if (!negate && !PROCESSED.has(claim.statusCode)) {
    return issue(
      IssueCode.UNSUPPORTED_STATUS,
      `${name} has claim status ${plain(claim.statusCode) ?? '(none)'} (CLP02), which is not an adjudication this ledger posts (1, 2, 3, 19, 20, 21, or a 22 reversal). Post it by hand if it owes PR.`,
    );
  }
  const unbalanced = balanceProblem(claim);
  if (unbalanced) return issue(IssueCode.UNBALANCED, `${name} does not balance: ${unbalanced.what}. Check the 835 with the payer, then post this claim by hand.`, unbalanced.segment);

  const claimPr = claim.adjustments.filter((a) => a.groupCode === 'PR');
  if (claimPr.length > 0 && claim.serviceLines.length > 1) {
    return issue(
      IssueCode.CLAIM_LEVEL_PR,
      `${name} has ${formatCents(sign(sumCents(claimPr.map((a) => a.amountCents)), negate))} of PR at claim level and ${claim.serviceLines.length} service lines, so which charge owes it is not said. Post this claim by hand.`,
    );
  }

  const matched: MatchedLine[] = [];
  const lines: (EraServiceLine | null)[] = claim.serviceLines.length ? claim.serviceLines : [null];
  for (const [k, line] of lines.entries()) {
    const found = line ? matchLine(claim, line, k + 1, index) : matchClaimWithoutLines(claim, index);
    if ('issue' in found) return found;
    const already = matched.find((m) => m.charge.id === found.charge.id);
    if (already) {
      return issue(IssueCode.AMBIGUOUS_MATCH, `${name}: service lines ${matched.indexOf(already) + 1} and ${k + 1} both match the same charge. Post this claim by hand.`, line?.segment ?? claim.segment);
    }
    // Claim-level adjustments belong to the claim's only service line (or to the claim itself, without lines).
    const triplets = line ? [...line.adjustments, ...(claim.serviceLines.length === 1 ? claim.adjustments : [])] : claim.adjustments;
    const adjustments = adjustmentsOf(triplets, negate);
    if (typeof adjustments === 'string') return issue(IssueCode.INVALID_ADJUSTMENT, `${name}, ${line ? `service line ${k + 1}` : 'claim level'}: ${adjustments} Post this claim by hand.`, line?.segment ?? claim.segment);
    const remittanceId = `${remittanceKey(claim, context)}:${context.ordinal}:${k + 1}`;
    matched.push({ charge: found.charge, remittanceId, adjustments, prCents: sumCents(adjustments.filter((a) => a.groupCode === 'PR').map((a) => a.amountCents)) });
  }
  if (!negate) {
    const recorded = matched.find((m) => m.charge.remittances.some((r) => r.externalId === m.remittanceId));
    if (recorded) {
      return issue(IssueCode.DUPLICATE_REMITTANCE, `${name}: remittance ${recorded.remittanceId} is already recorded on its charge, so this claim was posted before. Nothing to do unless the payer says otherwise.`);
    }
  }
  return { lines: matched };
}

/** REF*6R first; otherwise the claim number, procedure code and date of service must pick exactly one charge. */
function matchLine(claim: EraClaim, line: EraServiceLine, ordinal: number, index: ChargeIndex): { charge: MatchableCharge } | { issue: RemittanceIssue } {
  const name = claimName(claim);
  const control = line.lineControlNumber?.trim();
  if (control) {
    const byControl = index.withLineControlNumber(control);
    if (byControl.length === 1) return { charge: byControl[0] };
    if (byControl.length > 1) {
      return { issue: issueOn(claim, IssueCode.AMBIGUOUS_MATCH, `${name}, service line ${ordinal}: ${byControl.length} charges have line control number ${plain(control)} (REF*6R). Post this claim by hand.`, line.segment) };
    }
  }
  const code = billedCode(line);
  const date = dateOfService(claim, line);
  const what = `${plain(code) ?? '(no procedure code)'} on ${date ?? '(no date of service)'}`;
  const sameClaim = index.withClaimNumber(claim.claimNumber);
  if (sameClaim.length === 0) {
    return { issue: issueOn(claim, IssueCode.CLAIM_NOT_FOUND, `No charge has claim number ${plain(claim.claimNumber)} (CLP01)${control ? ` or line control number ${plain(control)}` : ''}. Give the charge that claim number, or post this claim by hand.`, line.segment) };
  }
  const fits = sameClaim.filter((c) => code !== null && date !== null && c.procedureCode.toUpperCase() === code.toUpperCase() && c.serviceDate === date);
  if (fits.length === 1) return { charge: fits[0] };
  if (fits.length === 0) {
    return {
      issue: issueOn(
        claim,
        IssueCode.CLAIM_NOT_FOUND,
        `${name}, service line ${ordinal} (${what}): none of the ${sameClaim.length} charges with this claim number has that procedure code and date of service. Check the charge, or post this claim by hand.`,
        line.segment,
      ),
    };
  }
  return { issue: issueOn(claim, IssueCode.AMBIGUOUS_MATCH, `${name}, service line ${ordinal} (${what}): ${fits.length} charges with this claim number match it. Post this claim by hand.`, line.segment) };
}

/** A claim without service lines matches the one charge with its claim number. */
function matchClaimWithoutLines(claim: EraClaim, index: ChargeIndex): { charge: MatchableCharge } | { issue: RemittanceIssue } {
  const sameClaim = index.withClaimNumber(claim.claimNumber);
  if (sameClaim.length === 1) return { charge: sameClaim[0] };
  const name = claimName(claim);
  if (sameClaim.length === 0) {
    return { issue: issueOn(claim, IssueCode.CLAIM_NOT_FOUND, `No charge has claim number ${plain(claim.claimNumber)} (CLP01). Give the charge that claim number, or post this claim by hand.`, claim.segment) };
  }
  return {
    issue: issueOn(claim, IssueCode.AMBIGUOUS_MATCH, `${name} has no service lines and ${sameClaim.length} charges have this claim number, so which one it pays is not said. Post this claim by hand.`, claim.segment),
  };
}

/** The code the practice billed: SVC06-2 when the payer changed it (docs/design.md §9.1), else SVC01-2. */
function billedCode(line: EraServiceLine): string | null {
  // The parser names SVC01-2 `procedureCode` and SVC06-2 (the submitted code, when the payer changed it) `adjudicatedCode`.
  return plain(line.adjudicatedCode) ?? plain(line.procedureCode);
}

/** DTM*472 (or the start of 150/151) of the line, else the claim's statement date (DTM*232): the parser's YYYY-MM-DD. */
function dateOfService(claim: EraClaim, line: EraServiceLine): string | null {
  return line.serviceDate ?? claim.statementDate;
}

/** The first of the 835's balancing rules the claim breaks, and where. */
function balanceProblem(claim: EraClaim): { what: string; segment: number } | null {
  const line = claim.serviceLines.findIndex((l) => !l.balanced);
  if (line >= 0) {
    const l = claim.serviceLines[line];
    const adjusted = sumCents(l.adjustments.map((a) => a.amountCents));
    return { what: `service line ${line + 1} charges ${formatCents(l.chargeCents)} less ${formatCents(adjusted)} of adjustments, which is not the ${formatCents(l.paidCents)} paid`, segment: l.segment };
  }
  if (!claim.balanced) {
    const adjusted = sumCents([...claim.adjustments, ...claim.serviceLines.flatMap((l) => l.adjustments)].map((a) => a.amountCents));
    return { what: `it charges ${formatCents(claim.chargeCents)} less ${formatCents(adjusted)} of adjustments, which is not the ${formatCents(claim.paidCents)} paid (CLP04)`, segment: claim.segment };
  }
  if (!claim.prBalanced) {
    const pr = sumCents([...claim.adjustments, ...claim.serviceLines.flatMap((l) => l.adjustments)].filter((a) => a.groupCode === 'PR').map((a) => a.amountCents));
    return { what: `its PR adjustments add up to ${formatCents(pr)}, not the ${formatCents(claim.patientResponsibilityCents ?? 0)} of patient responsibility it states (CLP05)`, segment: claim.segment };
  }
  return null;
}

/**
 * The entry's adjustments: every PR triplet (a CAS holds up to six), and the other groups' too (recordRemittance keeps
 * them; they create no PR). A reversal's amounts are negated back to the original's. Other groups' triplets that
 * recordRemittance could not take (not positive, not CO/OA/PI, a malformed reason) are left out, as they carry no PR;
 * a PR triplet it could not take is an issue. Zero-amount triplets are left out.
 */
function adjustmentsOf(triplets: readonly EraAdjustment[], negate: boolean): Adjustment[] | string {
  const pr: Adjustment[] = [];
  const other: Adjustment[] = [];
  for (const t of triplets) {
    const amountCents = sign(t.amountCents, negate);
    const groupCode = t.groupCode.trim().toUpperCase();
    const reasonCode = t.reasonCode.trim().toUpperCase();
    if (amountCents === 0) continue;
    if (groupCode === 'PR') {
      if (amountCents < 0 && negate) return `PR ${plain(reasonCode)} of ${formatCents(t.amountCents)} is not negated, as every amount of a reversal (CLP02 22) must be.`;
      if (amountCents < 0) return `PR ${plain(reasonCode)} of ${formatCents(amountCents)} is negative: only a reversal (CLP02 22) takes PR back.`;
      if (!REASON_CODE.test(reasonCode)) return `PR reason code "${plain(reasonCode)?.slice(0, 10) ?? ''}" is not a claim adjustment reason code.`;
      pr.push({ groupCode, reasonCode, amountCents });
    } else if ((ADJUSTMENT_GROUPS as readonly string[]).includes(groupCode) && amountCents > 0 && REASON_CODE.test(reasonCode)) {
      other.push({ groupCode, reasonCode, amountCents });
    }
  }
  if (pr.length > MAX_ADJUSTMENTS_PER_REMITTANCE) return `${pr.length} PR adjustments are more than one remittance can hold (${MAX_ADJUSTMENTS_PER_REMITTANCE}).`;
  return [...pr, ...other.slice(0, MAX_ADJUSTMENTS_PER_REMITTANCE - pr.length)];
}

function remittanceOf(line: MatchedLine, replacesRemittanceId?: string): ProposedRemittance {
  return { chargeId: line.charge.id, remittanceId: line.remittanceId, adjustments: line.adjustments, ...(replacesRemittanceId ? { replacesRemittanceId } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Reversals

/**
 * The earlier remittance a reversed line refers to: one not yet reversed on that charge whose PR (reason codes and
 * amounts) the reversal negates exactly. Several alike are told apart by the payer's claim control number that starts
 * their id; else the match is ambiguous.
 */
function originalOf(line: MatchedLine, claim: EraClaim, context: ClaimContext): MatchableRemittance | 'none' | 'ambiguous' {
  const wanted = prSignature(line.adjustments);
  const alike = line.charge.remittances.filter((r) => !r.reversed && prSignature(r.adjustments) === wanted);
  if (alike.length === 1) return alike[0];
  if (alike.length === 0) return 'none';
  const prefix = `${remittanceKey(claim, context)}:`;
  const same = alike.filter((r) => r.externalId.startsWith(prefix));
  return same.length === 1 ? same[0] : 'ambiguous';
}

function prSignature(adjustments: readonly Adjustment[]): string {
  return adjustments
    .filter((a) => a.groupCode.toUpperCase() === 'PR')
    .map((a) => `${a.reasonCode.toUpperCase()}=${a.amountCents}`)
    .sort()
    .join(',');
}

/** The reversal's lines each with the original it reverses, or the issue that keeps it out. */
function matchReversal(claim: EraClaim, context: ClaimContext, index: ChargeIndex): { lines: (MatchedLine & { original: MatchableRemittance })[] } | { issue: RemittanceIssue } {
  const matched = matchClaim(claim, context, index, true);
  if ('issue' in matched) return matched;
  const name = claimName(claim);
  const lines: (MatchedLine & { original: MatchableRemittance })[] = [];
  for (const [k, line] of matched.lines.entries()) {
    const original = originalOf(line, claim, context);
    const where = matched.lines.length > 1 ? `, service line ${k + 1},` : '';
    if (original === 'none') {
      return {
        issue: issueOn(
          claim,
          IssueCode.REVERSAL_WITHOUT_ORIGINAL,
          `${name}${where} reverses an earlier payment (CLP02 22), but no remittance recorded on its charge has exactly this PR (${formatCents(line.prCents)}). ` +
            'If the original is in a batch not yet posted, post that first; then reverse it by hand.',
        ),
      };
    }
    if (original === 'ambiguous') {
      return { issue: issueOn(claim, IssueCode.AMBIGUOUS_MATCH, `${name}${where} reverses an earlier payment (CLP02 22), and several remittances on its charge have exactly this PR. Reverse the right one by hand.`) };
    }
    lines.push({ ...line, original });
  }
  return { lines };
}

function reversalReason(claim: EraClaim, context: ClaimContext): string {
  return `Reversed by the payer: ${describePayment(context.payment)}, claim ${plain(claim.payerClaimNumber) ?? plain(claim.claimNumber)}`.slice(0, 255);
}

/** A reversal with no corrected claim after it: each of its lines a REVERSE_REMITTANCE entry (payments go to credit). */
function reversalAlone(claim: EraClaim, context: ClaimContext, index: ChargeIndex): Unit {
  const matched = matchReversal(claim, context, index);
  if ('issue' in matched) return { entries: [], issues: [matched.issue] };
  const reason = reversalReason(claim, context);
  return { entries: matched.lines.map((l) => ({ reverseRemittance: { chargeId: l.charge.id, remittanceId: l.original.externalId, reason } })), issues: [] };
}

/**
 * A reversal and its corrected claim: on each charge both touch, one REMITTANCE entry that replaces the original
 * (docs/design.md §8.3: payments move to the corrected lines); a charge only the reversal touches is reversed, one
 * only the correction touches gets a plain remittance. Either one failing keeps both out.
 */
function reversalWithCorrection(reversal: EraClaim, correction: EraClaim, reversalContext: ClaimContext, correctionContext: ClaimContext, index: ChargeIndex): Unit {
  const reversed = matchReversal(reversal, reversalContext, index);
  const corrected = matchClaim(correction, correctionContext, index);
  if ('issue' in reversed) {
    const held = issueOn(
      correction,
      reversed.issue.code,
      `${claimName(correction)} corrects a reversal (segment ${reversal.segment}) that could not be proposed, so it is held back too: post both by hand.`,
      correction.segment,
    );
    return { entries: [], issues: [reversed.issue, held] };
  }
  if ('issue' in corrected) {
    const held = issueOn(
      reversal,
      corrected.issue.code,
      `${claimName(reversal)} reverses an earlier payment, but its corrected claim (segment ${correction.segment}) could not be proposed, so the reversal is held back too: post both by hand.`,
      reversal.segment,
    );
    return { entries: [], issues: [held, corrected.issue] };
  }
  const reason = reversalReason(reversal, reversalContext);
  const correctedByCharge = new Map(corrected.lines.map((l) => [l.charge.id, l]));
  const entries: ProposedEntry[] = [];
  for (const line of reversed.lines) {
    const replacement = correctedByCharge.get(line.charge.id);
    if (replacement) entries.push({ remittance: remittanceOf(replacement, line.original.externalId) });
    else entries.push({ reverseRemittance: { chargeId: line.charge.id, remittanceId: line.original.externalId, reason } });
  }
  const reversedCharges = new Set(reversed.lines.map((l) => l.charge.id));
  for (const line of corrected.lines) if (!reversedCharges.has(line.charge.id)) entries.push({ remittance: remittanceOf(line) });
  return { entries, issues: [] };
}

// ---------------------------------------------------------------------------------------------------------------
// Issues and names

function issueOn(claim: EraClaim, code: IssueCode, message: string, segment: number | null = claim.segment): RemittanceIssue {
  return { code, message: message.slice(0, 1000), claimNumber: plain(claim.claimNumber), payerClaimNumber: plain(claim.payerClaimNumber), segment };
}

/** A claim with more service lines than one batch can hold (its entries are never split over batches). */
function tooLargeForABatch(claim: EraClaim, entries: number): Unit {
  return {
    entries: [],
    issues: [issueOn(claim, IssueCode.TOO_MANY_SERVICE_LINES, `${claimName(claim)} has ${entries} service lines to post, more than one batch can hold (${ENTRIES_PER_IMPORTED_BATCH}). Post this claim by hand.`)],
  };
}

function unbalancedPayment(payment: EraPayment): RemittanceIssue {
  const paid = sumCents(payment.claims.map((c) => c.paidCents));
  const provider = sumCents(payment.providerAdjustments.map((a) => a.amountCents));
  return {
    code: IssueCode.UNBALANCED_PAYMENT,
    message:
      `The claims of ${describePayment(payment)} pay ${formatCents(paid)}, less ${formatCents(provider)} of provider adjustments (PLB), which is not the ` +
      `${formatCents(payment.paymentCents)} of the payment (BPR02). Its balanced claims are proposed; check the payment with the payer.`,
    claimNumber: null,
    payerClaimNumber: null,
    segment: payment.segment,
  };
}

function claimName(claim: EraClaim): string {
  const payer = plain(claim.payerClaimNumber);
  return `Claim ${plain(claim.claimNumber) ?? '(no claim number)'}${payer ? ` (payer claim ${payer})` : ''}`;
}

/** What a remittance id starts with: the payer's claim control number (CLP07), else the claim number. */
function remittanceKey(claim: EraClaim, context: ClaimContext): string {
  // Short enough that the id with its ordinals stays within a remittance id's 255 characters.
  return (plain(claim.payerClaimNumber) ?? `${plain(context.payment.traceNumber) ?? ''}/${plain(claim.claimNumber) ?? ''}`).slice(0, 200);
}

function sign(cents: number, negate: boolean): number {
  return negate ? -cents : cents;
}

/** Text from the file as staff may see it: control characters out, spaces collapsed, at most 255 characters; null if empty. */
export function plain(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255);
  return cleaned || null;
}
