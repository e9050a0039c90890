/**
 * Model-based random sequences (docs/design.md §2 and §8): 120 seeded sequences, each on a fresh patient, of charges
 * with STAFF lines on several dates of service, up-front and self-pay payments that create ESTIMATED and SELF_PAY
 * lines, balance payments with and without allocations, refunds of every method, write-offs and their removals,
 * cancels, remittances that supersede estimates with money on them (§2.8), voided payments (§8.2), reversed and
 * corrected remittances (§8.3), credit applied with and without allocations (§8.4), and DEPOSIT and ADJUSTMENT posting
 * batches of those steps, previewed, posted with the preview's token and sometimes negated (§8.1). After every step the
 * server's answer and the patient's whole ledger, read through GraphQL, must equal what an independent model of the
 * rules (./ledger-model.ts) predicts, refusals and their codes included; a batch's preview must show what the model
 * predicts (its refusals, the balance before and after, every line touched before and after) and change nothing.
 * Runs on SQLite and, with TEST_DB=postgres, on PostgreSQL.
 *
 * Sequences run several at a time (each on its own patient), one step after another within a patient; with
 * TEST_INSTANCES=2 the steps alternate between the instances (a batch is previewed on the other instance than the one
 * that posts it). The harness runs the server with LEDGER_VERIFY=1, so each mutation's in-memory ledger is also
 * checked against a rebuild from its rows (docs/operations.md §1): the model checks the decisions and answers, the
 * verifier the state behind them. A divergence names the seed and step, the steps that led there, and the command
 * that replays just those seeds:
 * MODEL_SEEDS=17,42 npx jest test/e2e/ledger-model.e2e.test.ts
 */
import {
  BalanceFieldsFragment,
  ConcCancelDocument,
  ConcRefundDocument,
  ConcRemoveWriteOffDocument,
  ConcWriteOffDocument,
  ModelApplyCreditDocument,
  ModelBatchPreviewQuery,
  ModelBatchPreviewDocument,
  ModelChargesDocument,
  ModelCreateBatchDocument,
  ModelCreateChargeDocument,
  ModelNegateBatchDocument,
  ModelPaymentsDocument,
  ModelPostBatchDocument,
  ModelRecordPaymentDocument,
  ModelRecordRemittanceDocument,
  ModelReverseRemittanceDocument,
  ModelVoidPaymentDocument,
} from '../__generated__/graphql';
import { startTestServer, TestServer, Caller, GraphQLResponse, NO_CALLER_LIMITS } from '../harness';
import { newPatient } from '../fixtures';
import { mulberry32, pick, randomInt } from '../seeded-random';
import { pool } from './ledger-check';
import {
  BatchEntry,
  BatchForecast,
  BatchKind,
  Created,
  LedgerModel,
  LineAmounts,
  LineKind,
  ModelCharge,
  ModelStats,
  Op,
  PayMethod,
  Prediction,
  Purpose,
  RefundMethod,
  Totals,
  WriteOffReason,
  emptyStats,
} from './ledger-model';

const SEQUENCES = 120;
const FIRST_SEED = 1;
const PARALLEL = 6;
const SEEDS = process.env.MODEL_SEEDS ? process.env.MODEL_SEEDS.split(',').map(Number) : Array.from({ length: SEQUENCES }, (_, i) => FIRST_SEED + i);
/** Divergences shown in full in the failure; the rest are listed by seed. */
const SHOWN = 5;

jest.setTimeout(300_000);

let server: TestServer;
let manager: Caller;

beforeAll(async () => {
  server = await startTestServer({ env: { ...NO_CALLER_LIMITS } });
  manager = await server.caller('BILLING_MANAGER');
});
afterAll(() => server.stop());

// ---------------------------------------------------------------------------------------------------------------
// Choosing the next step from what the model says the patient has. Amounts aim at the edges (all that is open, a
// little more) often enough that refusals are frequent; a "fault" (a missing charge, a reused remittance id, a bad
// custom reason…) is put only into a step the model would otherwise accept, so that it alone decides the refusal.

const STAFF_KINDS: LineKind[] = ['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'NON_COVERED', 'OTHER', 'CUSTOM'];
const PAY_METHODS: PayMethod[] = ['CASH', 'CHECK', 'CARD', 'OTHER'];
const UP_FRONT: Purpose[] = ['COPAY', 'COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY'];
const STANDARD_REASONS: WriteOffReason[] = ['SMALL_BALANCE', 'BAD_DEBT', 'FINANCIAL_HARDSHIP', 'PROFESSIONAL_COURTESY', 'BILLING_ERROR'];
const CARC_OF_KIND: Partial<Record<LineKind, string>> = { DEDUCTIBLE: '1', COINSURANCE: '2', COPAY: '3', NON_COVERED: '96', OTHER: '45' };
/** Not in creation order: applying credit without allocations pays the oldest date of service first (§8.4). */
const SERVICE_DATES = ['2026-10-01', '2026-08-14', '2026-09-21', '2026-09-02'];

function generator(ledger: LedgerModel, rand: () => number) {
  /** What the steps are drawn against: the ledger, or while a batch's entries are drawn, a copy that has taken the earlier ones. */
  let model = ledger;
  const chance = (p: number) => rand() < p;
  const int = (min: number, max: number) => randomInt(rand, min, max);
  const weighted = <T>(options: [T, number][]): T => {
    let x = rand() * options.reduce((s, [, w]) => s + w, 0);
    for (const [value, w] of options) if ((x -= w) < 0) return value;
    return options[options.length - 1][0];
  };
  /** At the edge of `open`: part of it, all of it, or more. */
  const edge = (open: number, over = 400) => {
    const r = rand();
    if (open > 0 && r < 0.6) return int(1, open);
    if (open > 0 && r < 0.8) return open;
    return Math.max(open, 0) + int(1, over);
  };
  const withFault = (op: Op, faulty: Op): Op => (model.predict(op).refused === null ? faulty : op);
  /** While the entries of a batch are drawn: no faults that adding an entry would refuse before any preview. */
  let inBatch = false;

  const charge = (): Op => {
    const lines = Array.from({ length: int(0, 3) }, () => ({ kind: pick(rand, STAFF_KINDS), amountCents: int(5, 60) * 50 }));
    const total = lines.reduce((s, l) => s + l.amountCents, 0);
    const billedCents = total > 0 && chance(0.06) ? total - int(1, 50) : total + int(40, 200) * 50;
    return { type: 'createCharge', serviceDate: SERVICE_DATES[model.charges.size % SERVICE_DATES.length], billedCents, lines };
  };

  const upFront = (): Extract<Op, { type: 'recordPayment' }> => {
    const c = pick(rand, [...model.charges.values()]);
    const room = model.chargeRoom(c.id);
    const amountCents = chance(0.12) ? Math.max(room, 0) + int(1, 300) : int(2, 40) * 50;
    const op: Extract<Op, { type: 'recordPayment' }> = { type: 'recordPayment', purpose: pick(rand, UP_FRONT), amountCents, method: pick(rand, PAY_METHODS), chargeId: c.id, allocations: [] };
    const lines = [...model.lines.keys()];
    if (chance(0.05)) return withFault(op, { ...op, chargeId: null }) as typeof op;
    if (chance(0.05) && lines.length > 0) return withFault(op, { ...op, allocations: [{ lineId: pick(rand, lines), amountCents: 100 }] }) as typeof op;
    return op;
  };

  const balancePayment = (): Extract<Op, { type: 'recordPayment' }> => {
    const all = [...model.lines.values()];
    const open = all.filter((l) => model.openCents(l.id) > 0);
    const count = all.length === 0 ? 0 : weighted([[0, 15], [1, 50], [2, 25], [3, 10]]);
    const allocations: { lineId: string; amountCents: number }[] = [];
    for (let i = 0; i < count; i++) {
      const line = chance(0.75) && open.length > 0 ? pick(rand, open) : pick(rand, all);
      const already = allocations.filter((a) => a.lineId === line.id).reduce((s, a) => s + a.amountCents, 0);
      allocations.push({ lineId: line.id, amountCents: edge(model.openCents(line.id) - already) });
    }
    const total = allocations.reduce((s, a) => s + a.amountCents, 0);
    const amountCents = total + (chance(0.3) && total > 0 ? 0 : int(1, 30) * 50);
    const op: Extract<Op, { type: 'recordPayment' }> = { type: 'recordPayment', purpose: 'BALANCE', amountCents, method: pick(rand, PAY_METHODS), chargeId: null, allocations };
    if (total > 1 && chance(0.1)) return withFault(op, { ...op, amountCents: int(1, total - 1) }) as typeof op;
    return op;
  };

  const refund = (): Op => {
    const all = [...model.payments.values()];
    // Refunds of up-front payments reopen estimates, which a later remittance then supersedes.
    const upFront = all.filter((p) => [...model.allocationsOf(p.id).keys()].some((id) => isActiveEstimate(id)));
    // A refund of a posted batch's payment stands in the way of negating the batch (§8.1).
    const posted = all.filter((p) => model.batchOfPayment(p.id)?.status === 'POSTED' && p.voidedCents === 0);
    const r = rand();
    const ofBatch = r < 0.4 && posted.length > 0;
    const p = ofBatch ? pick(rand, posted) : r < 0.65 && upFront.length > 0 ? pick(rand, upFront) : pick(rand, all);
    const method = weighted<RefundMethod>([['ACCOUNT_CREDIT', ofBatch ? 15 : 35], ['ORIGINAL_CARD', 20], ['EXTERNAL_CASH_OR_CARD', 25], ['EXTERNAL_CHECK', 20]]);
    const limit = model.refundLimit(p.id, method);
    return { type: 'refund', paymentId: p.id, method, amountCents: chance(0.3) ? null : edge(limit, 300) };
  };

  const writeOff = (): Extract<Op, { type: 'writeOff' }> => {
    const all = [...model.lines.values()];
    const active = all.filter((l) => l.status === 'ACTIVE');
    const open = active.filter((l) => model.openCents(l.id) > 0);
    // An estimate reopened by a refund is the rare line a remittance must take a write-off off (§2.8): prefer it.
    const reopened = open.filter((l) => l.origin === 'ESTIMATED');
    // A remittance line with a write-off blocks its reversal and its correction (§8.3).
    const remitted = open.filter((l) => l.origin === 'REMITTANCE');
    const reversed = all.filter((l) => l.status === 'REVERSED');
    const r = rand();
    const line =
      r < 0.4 && reopened.length > 0 ? pick(rand, reopened)
      : r < 0.55 && remitted.length > 0 ? pick(rand, remitted)
      : r < 0.6 && reversed.length > 0 ? pick(rand, reversed)
      : r < 0.8 && open.length > 0 ? pick(rand, open)
      : r < 0.92 && active.length > 0 ? pick(rand, active)
      : pick(rand, all);
    const other = chance(0.15);
    const op: Extract<Op, { type: 'writeOff' }> = { type: 'writeOff', lineId: line.id, amountCents: edge(model.openCents(line.id)), reason: other ? 'OTHER' : pick(rand, STANDARD_REASONS), customReason: other ? 'Goodwill gesture' : null };
    if (!inBatch && chance(0.04)) return withFault(op, { ...op, reason: 'OTHER', customReason: null }) as typeof op;
    if (!inBatch && chance(0.04)) return withFault(op, { ...op, reason: 'BAD_DEBT', customReason: 'Not with a standard reason' }) as typeof op;
    return op;
  };

  const removal = (): Extract<Op, { type: 'removeWriteOff' }> => {
    const all = [...model.writeOffs.values()];
    const active = all.filter((w) => w.activeCents > 0);
    const w = chance(0.85) && active.length > 0 ? pick(rand, active) : pick(rand, all);
    return { type: 'removeWriteOff', writeOffId: w.id, amountCents: chance(0.35) ? null : edge(w.activeCents, 200) };
  };

  const cancel = (): Op => {
    const all = [...model.lines.values()];
    const ours = all.filter((l) => l.origin !== 'REMITTANCE');
    return { type: 'cancel', lineId: (chance(0.75) && ours.length > 0 ? pick(rand, ours) : pick(rand, all)).id };
  };

  const live = (c: ModelCharge) => [...c.remittances].filter(([, r]) => !r.reversed).map(([id]) => id);
  /** A remittance whose lines hold money: reversing or correcting it has something to release or move (§8.3). */
  const withMoneyOn = (c: ModelCharge) => live(c).filter((id) => c.remittances.get(id)!.lineIds.some((l) => model.paidCents(l) > 0));

  const remittance = (step: number): Op => {
    const charges = [...model.charges.values()];
    const withMoney = charges.filter((c) => c.lineIds.some((id) => isEstimateWithMoney(id)));
    const correctable = charges.filter((c) => withMoneyOn(c).length > 0);
    const r = rand();
    const c = r < 0.4 && correctable.length > 0 ? pick(rand, correctable) : r < 0.85 && withMoney.length > 0 ? pick(rand, withMoney) : pick(rand, charges);
    const liveIds = live(c);
    const moneyIds = withMoneyOn(c);
    const replaces = moneyIds.length > 0 && chance(0.75) ? pick(rand, moneyIds) : liveIds.length > 0 && chance(0.3) ? pick(rand, liveIds) : null;
    const estimates = c.lineIds.map((id) => model.lines.get(id)!).filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
    const replaced = replaces ? c.remittances.get(replaces)!.lineIds.map((id) => model.lines.get(id)!) : [];
    const bases = [...estimates, ...replaced];
    const adjustments = Array.from({ length: weighted([[0, 10], [1, 40], [2, 35], [3, 15]]) }, () => {
      const base = bases.length > 0 && chance(0.65) ? pick(rand, bases) : null;
      return {
        groupCode: chance(0.85) ? 'PR' : pick(rand, ['CO', 'OA', 'PI']),
        reasonCode: base ? CARC_OF_KIND[base.kind]! : pick(rand, ['1', '2', '3', '96', '204', '45']),
        amountCents: int(1, Math.max(2, Math.round(((base?.amountCents ?? 1_000) * 1.3) / 50))) * 50,
      };
    });
    const op: Op = { type: 'remittance', chargeId: c.id, remittanceId: `ERA-${step}`, adjustments, replacesRemittanceId: replaces };
    const reversedIds = [...c.remittances].filter(([, x]) => x.reversed).map(([id]) => id);
    if (chance(0.08) && c.remittances.size > 0) return withFault(op, { ...op, remittanceId: pick(rand, [...c.remittances.keys()]) });
    if (chance(0.04)) return withFault(op, { ...op, adjustments: [...adjustments, { groupCode: 'XX', reasonCode: '45', amountCents: 100 }] });
    if (chance(0.03)) return withFault(op, { ...op, adjustments: [...adjustments, { groupCode: 'PR', reasonCode: 'A-1', amountCents: 100 }] });
    if (chance(0.05)) return withFault(op, { ...op, replacesRemittanceId: 'ERA-never-recorded' });
    if (chance(0.1) && reversedIds.length > 0) return withFault(op, { ...op, replacesRemittanceId: pick(rand, reversedIds) });
    return op;
  };

  const reversal = (): Op => {
    const charges = [...model.charges.values()].filter((c) => c.remittances.size > 0);
    const withMoney = charges.filter((c) => withMoneyOn(c).length > 0);
    const c = chance(0.6) && withMoney.length > 0 ? pick(rand, withMoney) : pick(rand, charges);
    const liveIds = live(c);
    const moneyIds = withMoneyOn(c);
    const remittanceId = chance(0.6) && moneyIds.length > 0 ? pick(rand, moneyIds) : chance(0.85) && liveIds.length > 0 ? pick(rand, liveIds) : pick(rand, [...c.remittances.keys()]);
    const op: Op = { type: 'reverseRemittance', chargeId: c.id, remittanceId };
    if (chance(0.06)) return withFault(op, { ...op, remittanceId: 'ERA-never-recorded' });
    return op;
  };

  const voidPayment = (): Op => {
    const all = [...model.payments.values()];
    const standing = all.filter((p) => p.voidedCents === 0 && p.refundedCents === 0);
    return { type: 'voidPayment', paymentId: (chance(0.75) && standing.length > 0 ? pick(rand, standing) : pick(rand, all)).id };
  };

  const applyCredit = (): Extract<Op, { type: 'applyCredit' }> => {
    const all = [...model.lines.values()];
    if (all.length === 0 || chance(0.55)) return { type: 'applyCredit', allocations: null };
    const open = all.filter((l) => model.openCents(l.id) > 0);
    let left = model.totals().creditCents;
    const allocations: { lineId: string; amountCents: number }[] = [];
    for (let i = weighted([[1, 60], [2, 30], [3, 10]]); i > 0; i--) {
      const line = chance(0.85) && open.length > 0 ? pick(rand, open) : pick(rand, all);
      const room = model.openCents(line.id) - allocations.filter((a) => a.lineId === line.id).reduce((s, a) => s + a.amountCents, 0);
      const amountCents = chance(0.6) ? edge(Math.min(room, left)) : edge(room);
      allocations.push({ lineId: line.id, amountCents });
      left -= amountCents;
    }
    return { type: 'applyCredit', allocations };
  };

  const batch = (): Op => {
    const kind: BatchKind = chance(0.5) ? 'DEPOSIT' : 'ADJUSTMENT';
    inBatch = true;
    // Each entry is drawn against a copy of the ledger that has taken the batch's earlier entries. Most batches are
    // meant to post: an entry is drawn again until that copy accepts it; the others meet their refusals in the preview.
    // An entry never names what an earlier entry of the batch created: it does not exist until the batch is posted.
    const meantToPost = chance(0.7);
    const entries: BatchEntry[] = [];
    model = ledger.clone();
    for (let i = weighted([[1, 25], [2, 35], [3, 25], [4, 15]]); i > 0; i--) {
      const hasActiveWriteOff = [...model.writeOffs.values()].some((w) => w.activeCents > 0 && !w.id.startsWith('draft-'));
      const credit = model.totals().creditCents > 0;
      const step =
        kind === 'DEPOSIT'
          ? weighted<BatchEntry['type'] | 'upFront'>([['upFront', 3], ['recordPayment', 6], ['applyCredit', credit ? 3 : 0.3]])
          : weighted<BatchEntry['type']>([['writeOff', 6], ['removeWriteOff', hasActiveWriteOff ? 4 : 0], ['applyCredit', credit ? 3 : 0.3]]);
      const make = (): BatchEntry => (step === 'upFront' ? upFront() : step === 'recordPayment' ? balancePayment() : step === 'writeOff' ? writeOff() : step === 'removeWriteOff' ? removal() : applyCredit());
      const namesDraft = (e: BatchEntry) => JSON.stringify(e).includes('draft-');
      let entry = make();
      for (let tries = 8; tries > 0 && (namesDraft(entry) || (meantToPost && model.predict(entry).refused !== null)); tries--) entry = make();
      if (namesDraft(entry)) continue;
      model.simulate(entry, `draft-${i}`);
      entries.push(entry);
    }
    model = ledger;
    if (entries.length === 0) entries.push(kind === 'DEPOSIT' ? balancePayment() : applyCredit());
    // An entry the kind does not hold: ENTRY_NOT_ALLOWED when the batch is created (§8.1).
    if (chance(0.04)) entries.splice(int(0, entries.length), 0, kind === 'DEPOSIT' ? writeOff() : balancePayment());
    inBatch = false;
    const total = entries.reduce((s, e) => s + (e.type === 'recordPayment' ? e.amountCents : 0), 0);
    const r = rand();
    const expectedTotalCents = kind !== 'DEPOSIT' || r < 0.45 ? null : r < 0.85 ? total : total + pick(rand, [-1, 1]) * int(1, 20) * 50;
    return { type: 'batch', kind, entries, expectedTotalCents: expectedTotalCents !== null && expectedTotalCents < 0 ? total + 100 : expectedTotalCents };
  };

  const negation = (): Op => {
    const all = [...model.batches.values()];
    const posted = all.filter((b) => b.status === 'POSTED');
    return { type: 'negateBatch', batchId: (chance(0.85) && posted.length > 0 ? pick(rand, posted) : pick(rand, all)).id };
  };

  const isActiveEstimate = (lineId: string) => {
    const l = model.lines.get(lineId)!;
    return l.status === 'ACTIVE' && l.origin === 'ESTIMATED';
  };
  /** An estimate a remittance has something to do with: money to move, or a write-off to take off (§2.8). */
  const isEstimateWithMoney = (lineId: string) => isActiveEstimate(lineId) && (model.paidCents(lineId) > 0 || model.writtenOffCents(lineId) > 0);

  return (step: number): Op => {
    if (model.charges.size === 0) return charge();
    const hasLines = model.lines.size > 0;
    const estimatesWithMoney = [...model.lines.keys()].some(isEstimateWithMoney);
    const reopenedEstimate = [...model.lines.keys()].some((id) => isActiveEstimate(id) && model.openCents(id) > 0);
    const charges = [...model.charges.values()];
    const remittances = charges.some((c) => c.remittances.size > 0);
    const remittanceMoney = charges.some((c) => withMoneyOn(c).length > 0);
    const credit = model.totals().creditCents > 0;
    const open = [...model.lines.keys()].some((id) => model.openCents(id) > 0);
    const batches = [...model.batches.values()];
    const kind = weighted<Op['type'] | 'upFront'>([
      ['createCharge', model.charges.size < 3 ? 5 : 0],
      ['upFront', 14],
      ['recordPayment', 14],
      ['refund', model.payments.size > 0 ? 10 + (estimatesWithMoney ? 5 : 0) + (batches.some((b) => b.status === 'POSTED' && b.kind === 'DEPOSIT') ? 9 : 0) : 0],
      ['writeOff', hasLines ? 11 + (reopenedEstimate ? 12 : 0) : 0],
      ['removeWriteOff', [...model.writeOffs.values()].some((w) => w.activeCents > 0) ? 7 : model.writeOffs.size > 0 ? 2 : 0],
      ['cancel', hasLines ? 6 : 0],
      ['remittance', 5 + (estimatesWithMoney ? 18 : 0) + (remittanceMoney ? 8 : 0)],
      ['voidPayment', model.payments.size > 0 ? 5 : 0],
      ['applyCredit', credit ? (open ? 12 : 4) : 2],
      ['reverseRemittance', remittances ? 3 + (remittanceMoney ? 4 : 0) : 0],
      ['batch', hasLines ? 10 : 0],
      ['negateBatch', batches.some((b) => b.status === 'POSTED') ? 10 : batches.length > 0 ? 1 : 0],
    ]);
    switch (kind) {
      case 'createCharge':
        return charge();
      case 'upFront':
        return upFront();
      case 'recordPayment':
        return balancePayment();
      case 'refund':
        return refund();
      case 'writeOff':
        return writeOff();
      case 'removeWriteOff':
        return removal();
      case 'cancel':
        return cancel();
      case 'remittance':
        return remittance(step);
      case 'voidPayment':
        return voidPayment();
      case 'applyCredit':
        return applyCredit();
      case 'reverseRemittance':
        return reversal();
      case 'batch':
        return batch();
      case 'negateBatch':
        return negation();
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sending a step, and reading the patient back.

interface Answer {
  /** A GraphQL error or a non-200 answer: never acceptable (an internal error included); or a wrong preview. */
  failure: string | null;
  codes: string[];
  balance: BalanceFieldsFragment | null;
  created: Created;
  /** New lines as the answer shows them (remittances), for checking kind, amount and reason code. */
  newLines: { id: string; kind: string; origin: string; amountCents: number; reasonCode: string | null }[] | null;
}

/** The input of the mutation a step (or a batch entry) stands for. */
function inputOf(patientId: string, op: BatchEntry): Record<string, unknown> {
  switch (op.type) {
    case 'recordPayment':
      return {
        patientId,
        amountCents: op.amountCents,
        method: op.method,
        purpose: op.purpose,
        ...(op.chargeId ? { chargeId: op.chargeId } : {}),
        allocations: op.allocations.map((x) => ({ responsibilityId: x.lineId, amountCents: x.amountCents })),
      };
    case 'writeOff':
      return { responsibilityId: op.lineId, amountCents: op.amountCents, reason: op.reason, ...(op.customReason ? { customReason: op.customReason } : {}) };
    case 'removeWriteOff':
      return { writeOffId: op.writeOffId, reason: 'Patient can pay', ...(op.amountCents === null ? {} : { amountCents: op.amountCents }) };
    case 'applyCredit':
      return { patientId, ...(op.allocations ? { allocations: op.allocations.map((x) => ({ responsibilityId: x.lineId, amountCents: x.amountCents })) } : {}) };
  }
}

const MEMBER: Record<BatchEntry['type'], string> = { recordPayment: 'payment', writeOff: 'writeOff', removeWriteOff: 'removeWriteOff', applyCredit: 'applyCredit' };

/** The entry a userError's field names (["entries", i, …], with or without a leading "input"), or null. */
function entryOf(field: readonly string[] | null | undefined): number | null {
  const at = field?.indexOf('entries') ?? -1;
  return at >= 0 ? Number(field![at + 1]) : null;
}

/**
 * Sends one step; `instance` picks the server instance (TEST_INSTANCES=2: steps alternate, so each instance's ledger
 * cache goes stale in turn). A batch is created with its entries, previewed (checked against the forecast, and that
 * it changed nothing) and posted with the preview's token; the answer is the post's.
 */
async function send(patientId: string, model: LedgerModel, op: Op, prediction: Prediction, names: Names, instance: number): Promise<Answer> {
  const answer = (response: GraphQLResponse<Record<string, any>>, field: string): Answer & { payload: Record<string, any> | null } => {
    const payload = response.data?.[field] ?? null;
    const failure = response.status !== 200 || response.errors?.length || !payload ? `HTTP ${response.status}, errors ${JSON.stringify(response.errors)}` : null;
    return { failure, payload, codes: (payload?.userErrors ?? []).map((e: { code: string }) => e.code), balance: payload?.balance ?? null, created: {}, newLines: null };
  };
  switch (op.type) {
    case 'createCharge': {
      const input = { patientId, serviceDate: op.serviceDate, procedureCode: '99213', billedCents: op.billedCents, responsibilities: op.lines };
      const a = answer(await server.gql(manager, ModelCreateChargeDocument, { input }, instance), 'createCharge');
      if (a.payload?.charge) a.created = { chargeId: a.payload.charge.id, lineIds: a.payload.charge.responsibilities.map((r: { id: string }) => r.id) };
      return a;
    }
    case 'recordPayment': {
      const a = answer(await server.gql(manager, ModelRecordPaymentDocument, { input: inputOf(patientId, op) as any }, instance), 'recordPayment');
      const payment = a.payload?.payment;
      if (payment) {
        a.created = { paymentId: payment.id };
        if (op.purpose !== 'BALANCE') a.created.lineIds = payment.allocations.map((x: { responsibility: { id: string } }) => x.responsibility.id);
      }
      return a;
    }
    case 'refund': {
      const input = { paymentId: op.paymentId, method: op.method, reason: 'Overpaid', ...(op.amountCents === null ? {} : { amountCents: op.amountCents }) };
      return answer(await server.gql(manager, ConcRefundDocument, { input }, instance), 'refundPayment');
    }
    case 'writeOff': {
      const a = answer(await server.gql(manager, ConcWriteOffDocument, { input: inputOf(patientId, op) as any }, instance), 'writeOff');
      if (a.payload?.writeOff) a.created = { writeOffId: a.payload.writeOff.id };
      return a;
    }
    case 'removeWriteOff': {
      const a = answer(await server.gql(manager, ConcRemoveWriteOffDocument, { input: inputOf(patientId, op) as any }, instance), 'removeWriteOff');
      if (a.payload?.writeOff && a.payload.writeOff.id !== op.writeOffId) a.failure = `answered with write-off ${a.payload.writeOff.id}, not the one removed from`;
      return a;
    }
    case 'cancel':
      return answer(await server.gql(manager, ConcCancelDocument, { input: { responsibilityId: op.lineId, reason: 'Entered in error' } }, instance), 'cancelPR');
    case 'remittance': {
      const input = { chargeId: op.chargeId, remittanceId: op.remittanceId, adjustments: op.adjustments, ...(op.replacesRemittanceId === null ? {} : { replacesRemittanceId: op.replacesRemittanceId }) };
      const a = answer(await server.gql(manager, ModelRecordRemittanceDocument, { input }, instance), 'recordRemittance');
      if (a.payload?.charge) {
        // The charge's lines oldest first: the ones the model does not know yet are this remittance's, in adjustment order.
        a.newLines = a.payload.charge.responsibilities.filter((r: { id: string }) => !model.lines.has(r.id));
        a.created = { lineIds: a.newLines!.map((r) => r.id) };
      }
      return a;
    }
    case 'voidPayment': {
      const a = answer(await server.gql(manager, ModelVoidPaymentDocument, { input: { paymentId: op.paymentId, reason: 'Check bounced' } }, instance), 'voidPayment');
      const payment = a.payload?.payment;
      if (payment) {
        a.created = { paymentId: payment.id };
        if (payment.id !== op.paymentId || !payment.voidedAt) a.failure = `answered with payment ${JSON.stringify(payment)}, not the one voided`;
      }
      return a;
    }
    case 'applyCredit':
      return answer(await server.gql(manager, ModelApplyCreditDocument, { input: inputOf(patientId, op) as any }, instance), 'applyCredit');
    case 'reverseRemittance': {
      const input = { chargeId: op.chargeId, remittanceId: op.remittanceId, reason: 'Claim reversed by the payer' };
      return answer(await server.gql(manager, ModelReverseRemittanceDocument, { input }, instance), 'reverseRemittance');
    }
    case 'batch': {
      const forecast = prediction.batch!;
      const input = {
        kind: op.kind,
        reference: `Model ${op.kind.toLowerCase()}`,
        entries: op.entries.map((e) => ({ [MEMBER[e.type]]: inputOf(patientId, e) })),
        ...(op.expectedTotalCents === null ? {} : { expectedTotalCents: op.expectedTotalCents }),
      };
      const created = answer(await server.gql(manager, ModelCreateBatchDocument, { input: input as any }, instance), 'createPostingBatch');
      if (created.failure || created.codes.length > 0 || forecast.atCreate) return created;
      const batchId: string = created.payload!.batch.id;
      names.add(batchId, 'B');
      const preview = (await server.ok(manager, ModelBatchPreviewDocument, { id: batchId }, instance + 1)).postingBatch!;
      const wrong = comparePreview(preview, forecast.preview!, patientId, names.of);
      if (wrong.length > 0) return { ...created, failure: `the preview differs from the model:\n    ${wrong.join('\n    ')}` };
      const changed = compareLedger(await read(patientId), model, names.of);
      if (changed.length > 0) return { ...created, failure: `the preview changed the ledger:\n    ${changed.join('\n    ')}` };
      const a = answer(await server.gql(manager, ModelPostBatchDocument, { input: { batchId, previewToken: preview.preview.token } }, instance), 'postPostingBatch');
      a.created = { batchId };
      a.balance = a.payload?.balances?.[0] ?? null;
      if (a.payload && a.codes.length === 0) {
        if (a.payload.balances.length !== 1 || a.payload.balances[0].patientId !== patientId) a.failure = `posted with balances ${JSON.stringify(a.payload.balances)}`;
        if (a.payload.batch?.status !== 'POSTED') a.failure = `posted batch is ${a.payload.batch?.status}`;
        a.created.entries = (a.payload.batch?.entries.edges ?? []).map(({ node }: { node: any }) => ({
          paymentId: node.payment?.id,
          lineIds: node.payment?.allocations.map((x: { responsibility: { id: string } }) => x.responsibility.id),
          writeOffId: node.writeOff?.id,
        }));
      } else if (a.payload && a.codes.length === 1 && forecast.preview!.errors.length > 0) {
        const at = entryOf(a.payload.userErrors[0].field);
        if (at !== forecast.preview!.errors[0].entry) a.failure = `posting refused ${a.codes[0]} at entry ${at}, the model's first refusal is at entry ${forecast.preview!.errors[0].entry}`;
      }
      return a;
    }
    case 'negateBatch': {
      const a = answer(await server.gql(manager, ModelNegateBatchDocument, { input: { batchId: op.batchId, reason: 'Posted in error' } }, instance), 'negatePostingBatch');
      a.balance = a.payload?.balances?.[0] ?? null;
      if (a.payload && a.codes.length === 0) {
        const { batch, negation, balances } = a.payload;
        if (batch?.status !== 'NEGATED' || !negation || negation.status !== 'POSTED' || negation.negates?.id !== op.batchId || batch.negatedBy?.id !== negation.id || balances.length !== 1) {
          a.failure = `negated with ${JSON.stringify({ batch, negation, balances })}`;
        }
        // A removal written off again is a new write-off: learnt from the lines, oldest first.
        const newWriteOffs = new Map<string, string[]>();
        for (const [lineId, line] of (await read(patientId)).lines) {
          const fresh = line.writeOffs.filter((w) => !model.writeOffs.has(w.id)).map((w) => w.id);
          if (fresh.length > 0) newWriteOffs.set(lineId, fresh);
        }
        a.created = { newWriteOffs };
      }
      return a;
    }
  }
}

interface ServerLedger {
  balance: BalanceFieldsFragment;
  charges: Map<string, { billedCents: number; openCents: number }>;
  lines: Map<string, { chargeId: string; kind: string; origin: string; status: string; amountCents: number; paidCents: number; writtenOffCents: number; openCents: number; reasonCode: string | null; writeOffs: { id: string; amountCents: number; activeCents: number }[] }>;
  payments: Map<string, { amountCents: number; allocatedCents: number; unallocatedCents: number; refundedCents: number; voidedCents: number; allocations: Map<string, number>; refunds: number[] }>;
}

async function read(patientId: string): Promise<ServerLedger> {
  const charges = (await server.ok(manager, ModelChargesDocument, { id: patientId })).patient!;
  const payments = (await server.ok(manager, ModelPaymentsDocument, { id: patientId })).patient!;
  if (charges.charges.pageInfo.hasNextPage || payments.payments.pageInfo.hasNextPage) throw new Error('a sequence outgrew one page: keep sequences under 100 charges and payments');
  const ledger: ServerLedger = { balance: charges.balance, charges: new Map(), lines: new Map(), payments: new Map() };
  for (const { node } of charges.charges.edges) {
    ledger.charges.set(node.id, { billedCents: node.billedCents, openCents: node.openCents });
    for (const r of node.responsibilities) ledger.lines.set(r.id, { ...r, chargeId: node.id });
  }
  for (const { node } of payments.payments.edges) {
    const allocations = new Map<string, number>();
    for (const a of node.allocations) allocations.set(a.responsibility.id, (allocations.get(a.responsibility.id) ?? 0) + a.amountCents);
    ledger.payments.set(node.id, { ...node, allocations, refunds: node.refunds.map((r) => r.amountCents) });
  }
  return ledger;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing.

/** Short names (C1, L2, P3, W4, B5) for the ids in messages, given as the model first meets them. */
class Names {
  private readonly names = new Map<string, string>();
  private readonly counts: Record<string, number> = {};
  add(id: string, prefix: string): void {
    if (!this.names.has(id)) this.names.set(id, `${prefix}${(this.counts[prefix] = (this.counts[prefix] ?? 0) + 1)}`);
  }
  of = (id: string | null | undefined): string => (id ? (this.names.get(id) ?? id) : String(id));
}

function describeStep(op: Op, name: Names['of']): string {
  const allocations = (list: { lineId: string; amountCents: number }[]) => `[${list.map((a) => `${name(a.lineId)} ${a.amountCents}`).join(', ')}]`;
  switch (op.type) {
    case 'createCharge':
      return `createCharge ${op.serviceDate} billed ${op.billedCents} [${op.lines.map((l) => `${l.kind} ${l.amountCents}`).join(', ')}]`;
    case 'recordPayment':
      return op.purpose === 'BALANCE'
        ? `recordPayment ${op.amountCents} ${op.method} ${allocations(op.allocations)}`
        : `recordPayment ${op.purpose} ${op.amountCents} ${op.method} on ${op.chargeId ? name(op.chargeId) : 'no charge'}${op.allocations.length ? ` with allocations ${allocations(op.allocations)}` : ''}`;
    case 'refund':
      return `refundPayment ${name(op.paymentId)} ${op.method} ${op.amountCents ?? 'all'}`;
    case 'writeOff':
      return `writeOff ${name(op.lineId)} ${op.amountCents} ${op.reason}${op.customReason ? ` "${op.customReason}"` : ''}`;
    case 'removeWriteOff':
      return `removeWriteOff ${name(op.writeOffId)} ${op.amountCents ?? 'all'}`;
    case 'cancel':
      return `cancelPR ${name(op.lineId)}`;
    case 'remittance':
      return `recordRemittance ${op.remittanceId} on ${name(op.chargeId)}${op.replacesRemittanceId === null ? '' : ` replacing ${op.replacesRemittanceId}`} [${op.adjustments.map((a) => `${a.groupCode} ${a.reasonCode} ${a.amountCents}`).join(', ')}]`;
    case 'voidPayment':
      return `voidPayment ${name(op.paymentId)}`;
    case 'applyCredit':
      return `applyCredit ${op.allocations ? allocations(op.allocations) : '(oldest first)'}`;
    case 'reverseRemittance':
      return `reverseRemittance ${op.remittanceId} on ${name(op.chargeId)}`;
    case 'batch':
      return `${op.kind} batch${op.expectedTotalCents === null ? '' : ` expecting ${op.expectedTotalCents}`} { ${op.entries.map((e) => describeStep(e, name)).join('; ')} } → preview → post`;
    case 'negateBatch':
      return `negatePostingBatch ${name(op.batchId)}`;
  }
}

const TOTALS: (keyof Totals)[] = ['outstandingCents', 'responsibilityCents', 'paidCents', 'writtenOffCents', 'creditCents'];

function compareBalance(balance: BalanceFieldsFragment | null, model: LedgerModel, where: string): string[] {
  if (!balance) return [`${where}: no balance`];
  const expected = { ...model.totals(), version: model.version };
  return [...TOTALS, 'version' as const].filter((k) => balance[k] !== expected[k]).map((k) => `${where} ${k}: server ${balance[k]}, model ${expected[k]}`);
}

function compareLedger(server: ServerLedger, model: LedgerModel, name: Names['of']): string[] {
  const p = compareBalance(server.balance, model, 'balance');
  const field = (what: string, key: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) p.push(`${what} ${key}: server ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`);
  };
  for (const c of model.charges.values()) {
    const s = server.charges.get(c.id);
    if (!s) {
      p.push(`charge ${name(c.id)} missing on the server`);
      continue;
    }
    field(`charge ${name(c.id)}`, 'billedCents', s.billedCents, c.billedCents);
    const open = c.lineIds.filter((id) => model.lines.get(id)!.status === 'ACTIVE').reduce((sum, id) => sum + model.openCents(id), 0);
    field(`charge ${name(c.id)}`, 'openCents', s.openCents, open);
  }
  for (const l of model.lines.values()) {
    const s = server.lines.get(l.id);
    const what = `line ${name(l.id)} (${l.origin} ${l.kind})`;
    if (!s) {
      p.push(`${what} missing on the server`);
      continue;
    }
    field(what, 'charge', name(s.chargeId), name(l.chargeId));
    field(what, 'kind', s.kind, l.kind);
    field(what, 'origin', s.origin, l.origin);
    field(what, 'status', s.status, l.status);
    field(what, 'amountCents', s.amountCents, l.amountCents);
    field(what, 'paidCents', s.paidCents, model.paidCents(l.id));
    field(what, 'writtenOffCents', s.writtenOffCents, model.writtenOffCents(l.id));
    field(what, 'openCents', s.openCents, model.openCents(l.id));
    field(what, 'reasonCode', s.reasonCode, l.reasonCode);
    const mine = [...model.writeOffs.values()].filter((w) => w.lineId === l.id);
    field(what, 'write-offs', s.writeOffs.map((w) => name(w.id)).sort().join(' '), mine.map((w) => name(w.id)).sort().join(' '));
    for (const w of s.writeOffs) {
      const m = model.writeOffs.get(w.id);
      if (m) field(`write-off ${name(w.id)}`, 'amount/active', `${w.amountCents}/${w.activeCents}`, `${m.amountCents}/${m.activeCents}`);
    }
  }
  for (const id of server.lines.keys()) if (!model.lines.has(id)) p.push(`the server has a line ${id} the model does not`);
  for (const m of model.payments.values()) {
    const s = server.payments.get(m.id);
    const what = `payment ${name(m.id)}`;
    if (!s) {
      p.push(`${what} missing on the server`);
      continue;
    }
    field(what, 'amountCents', s.amountCents, m.amountCents);
    field(what, 'allocatedCents', s.allocatedCents, model.allocatedCents(m.id));
    field(what, 'unallocatedCents', s.unallocatedCents, model.unallocatedCents(m.id));
    field(what, 'refundedCents', s.refundedCents, m.refundedCents);
    field(what, 'voidedCents', s.voidedCents, m.voidedCents);
    field(what, 'refunds', s.refunds.join(' '), m.refunds.join(' '));
    const lines = (x: Map<string, number>) => [...x].map(([line, cents]) => `${name(line)}:${cents}`).sort().join(' ');
    field(what, 'allocations', lines(s.allocations), lines(model.allocationsOf(m.id)));
  }
  for (const id of server.payments.keys()) if (!model.payments.has(id)) p.push(`the server has a payment ${id} the model does not`);
  return p;
}

/** A preview against the model's forecast (docs/design.md §8.1): refusals, the balance before and after, every line touched. */
function comparePreview(batch: NonNullable<ModelBatchPreviewQuery['postingBatch']>, expected: NonNullable<BatchForecast['preview']>, patientId: string, name: Names['of']): string[] {
  const p: string[] = [];
  const { preview } = batch;
  if (batch.status !== 'DRAFT') p.push(`the batch is ${batch.status} before posting`);
  if (preview.valid !== (expected.errors.length === 0)) p.push(`valid: server ${preview.valid}, model ${expected.errors.length === 0}`);
  if (!preview.token) p.push('no token');
  const errorsMatch =
    preview.userErrors.length === expected.errors.length && preview.userErrors.every((e, k) => entryOf(e.field) === expected.errors[k].entry && expected.errors[k].codes.includes(e.code));
  if (!errorsMatch) {
    const server = preview.userErrors.map((e) => `${entryOf(e.field) ?? 'batch'}:${e.code}`).join(', ');
    const model = expected.errors.map((e) => `${e.entry ?? 'batch'}:${e.codes.join('|')}`).join(', ');
    p.push(`userErrors (entry:code): server [${server}], model [${model}]`);
  }
  if (preview.patients.length !== 1 || preview.patients[0].patientId !== patientId) p.push(`patients: ${JSON.stringify(preview.patients)}`);
  else {
    for (const side of ['before', 'after'] as const) {
      const s = preview.patients[0][side];
      for (const k of [...TOTALS, 'version' as const]) if (s[k] !== expected[side][k]) p.push(`patient ${side} ${k}: server ${s[k]}, model ${expected[side][k]}`);
    }
  }
  const show = (x: LineAmounts | null | undefined) => (x ? `${x.status} ${x.amountCents} paid ${x.paidCents} off ${x.writtenOffCents} open ${x.openCents}` : 'none');
  const serverLines = new Map(preview.lines.filter((l) => l.before).map((l) => [l.responsibilityId, l]));
  const modelLines = new Map(expected.lines.filter((l) => l.before).map((l) => [l.id, l]));
  for (const [id, m] of modelLines) {
    const s = serverLines.get(id);
    if (!s) p.push(`line ${name(id)}: touched in the model (${show(m.before)} → ${show(m.after)}), not in the preview`);
    else if (show(s.before) !== show(m.before) || show(s.after) !== show(m.after)) p.push(`line ${name(id)}: server ${show(s.before)} → ${show(s.after)}, model ${show(m.before)} → ${show(m.after)}`);
  }
  for (const [id, s] of serverLines) if (!modelLines.has(id)) p.push(`line ${name(id)}: in the preview (${show(s.before)} → ${show(s.after)}), not touched in the model`);
  const created = (list: { before?: unknown; after: LineAmounts }[]) => list.filter((l) => !l.before).map((l) => show(l.after)).sort().join('; ');
  if (created(preview.lines) !== created(expected.lines)) p.push(`new lines: server [${created(preview.lines)}], model [${created(expected.lines)}]`);
  return p;
}

/** Compares the answer with the prediction; on acceptance, teaches the model the new ids first. */
function judge(answer: Answer, prediction: Prediction, model: LedgerModel, names: Names): string[] {
  if (answer.failure) return [`the mutation failed: ${answer.failure}`];
  if (prediction.refused) {
    if (answer.codes.length === 1 && prediction.refused.includes(answer.codes[0])) {
      if (answer.balance) return ['refused with a balance'];
      prediction.afterRefusal?.(answer.created);
      return [];
    }
    return [`expected refusal ${prediction.refused.join(' or ')}, server answered ${answer.codes.length ? answer.codes.join(', ') : 'accepted'}`];
  }
  if (answer.codes.length > 0) return [`expected acceptance, server refused with ${answer.codes.join(', ')}`];
  const p: string[] = [];
  const { expects } = prediction;
  if ((answer.created.lineIds ?? []).length !== expects.lines.length) {
    return [`expected ${expects.lines.length} new line(s), the answer has ${(answer.created.lineIds ?? []).length}`];
  }
  answer.newLines?.forEach((l, i) => {
    const e = expects.lines[i];
    if (l.kind !== e.kind || l.origin !== e.origin || l.amountCents !== e.amountCents || l.reasonCode !== e.reasonCode) {
      p.push(`new line ${i + 1}: server ${JSON.stringify([l.kind, l.origin, l.amountCents, l.reasonCode])}, model ${JSON.stringify([e.kind, e.origin, e.amountCents, e.reasonCode])}`);
    }
  });
  if (expects.charge && !answer.created.chargeId) p.push('no charge in the answer');
  if (expects.payment && !answer.created.paymentId) p.push('no payment in the answer');
  if (expects.writeOff && !answer.created.writeOffId) p.push('no write-off in the answer');
  if (p.length > 0) return p;
  for (const created of [answer.created, ...(answer.created.entries ?? [])]) {
    if (created.chargeId) names.add(created.chargeId, 'C');
    for (const id of created.lineIds ?? []) names.add(id, 'L');
    if (created.paymentId) names.add(created.paymentId, 'P');
    if (created.writeOffId) names.add(created.writeOffId, 'W');
    if (created.batchId) names.add(created.batchId, 'B');
    for (const ids of created.newWriteOffs?.values() ?? []) for (const id of ids) names.add(id, 'W');
  }
  prediction.apply(answer.created);
  return compareBalance(answer.balance, model, 'answer balance');
}

// ---------------------------------------------------------------------------------------------------------------

interface Outcome {
  seed: number;
  mutations: number;
  divergence: string | null;
  accepted: Record<string, number>;
  refused: Record<string, number>;
}

/** How accepted steps are counted for the coverage check. */
function keyOf(op: Op): string {
  switch (op.type) {
    case 'recordPayment':
      return `recordPayment ${op.purpose === 'BALANCE' ? (op.allocations.length ? 'allocated' : 'credit') : 'up-front'}`;
    case 'applyCredit':
      return `applyCredit ${op.allocations ? 'allocated' : 'oldest first'}`;
    case 'remittance':
      return op.replacesRemittanceId === null ? 'remittance' : 'remittance corrected';
    case 'batch':
      return `batch ${op.kind}`;
    default:
      return op.type;
  }
}

async function runSequence(seed: number, stats: ModelStats): Promise<Outcome> {
  const rand = mulberry32(seed);
  const model = new LedgerModel(stats);
  const names = new Names();
  const next = generator(model, rand);
  const patientId = await newPatient(server, manager, 'Model', `Seed${seed}`);
  const steps = randomInt(rand, 8, 16);
  const history: string[] = [];
  const outcome: Outcome = { seed, mutations: 0, divergence: null, accepted: {}, refused: {} };
  for (let step = 1; step <= steps; step++) {
    const op = next(step);
    const prediction = model.predict(op);
    history.push(`${step}. ${describeStep(op, names.of)} → model: ${prediction.refused ? `refused ${prediction.refused.join(' or ')}` : 'accepted'}`);
    let problems: string[];
    let codes: string[] = [];
    try {
      const answer = await send(patientId, model, op, prediction, names, step);
      codes = answer.codes;
      outcome.mutations++;
      problems = judge(answer, prediction, model, names);
      if (problems.length === 0) problems = compareLedger(await read(patientId), model, names.of);
    } catch (error) {
      problems = [`threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
    }
    if (problems.length > 0) {
      outcome.divergence = [
        `seed ${seed}, step ${step} of ${steps} (patient ${patientId}): ${describeStep(op, names.of)}`,
        ...problems.map((x) => `  ${x}`),
        '  steps:',
        ...history.map((h) => `    ${h}`),
        `  replay: MODEL_SEEDS=${seed}${process.env.TEST_DB === 'postgres' ? ' TEST_DB=postgres' : ''} npx jest test/e2e/ledger-model.e2e.test.ts`,
      ].join('\n');
      return outcome;
    }
    const bucket = prediction.refused ? outcome.refused : outcome.accepted;
    const key = prediction.refused ? codes[0] : keyOf(op);
    bucket[key] = (bucket[key] ?? 0) + 1;
  }
  return outcome;
}

test(`${SEEDS.length} seeded random sequences agree with an independent model of the ledger rules after every step`, async () => {
  const stats = emptyStats();
  const started = Date.now();
  const outcomes = await pool(
    PARALLEL,
    SEEDS.map((seed) => () => runSequence(seed, stats)),
  );
  const diverged = outcomes.filter((o) => o.divergence);
  const total = (key: 'accepted' | 'refused') => {
    const all: Record<string, number> = {};
    for (const o of outcomes) for (const [k, n] of Object.entries(o[key])) all[k] = (all[k] ?? 0) + n;
    return all;
  };
  const accepted = total('accepted');
  const refused = total('refused');
  // eslint-disable-next-line no-console
  if (process.env.VERBOSE_E2E) console.log(`${outcomes.reduce((s, o) => s + o.mutations, 0)} steps in ${Date.now() - started} ms`, { accepted, refused, stats });

  const report = diverged.length === 0 ? '' : [
    `${diverged.length} of ${outcomes.length} sequences diverged from the model (seeds ${diverged.map((o) => o.seed).join(', ')}):`,
    ...diverged.slice(0, SHOWN).map((o) => o.divergence!),
  ].join('\n\n');
  expect(report).toBe('');

  // The sequences must have reached every corner they exist for; a generator change that stops reaching one fails here.
  if (!process.env.MODEL_SEEDS) {
    const missing: string[] = [];
    for (const key of [
      'createCharge', 'recordPayment allocated', 'recordPayment credit', 'recordPayment up-front', 'refund', 'writeOff', 'removeWriteOff', 'cancel', 'remittance',
      'voidPayment', 'applyCredit oldest first', 'applyCredit allocated', 'reverseRemittance', 'remittance corrected', 'batch DEPOSIT', 'batch ADJUSTMENT', 'negateBatch',
    ]) {
      if (!accepted[key]) missing.push(`no accepted ${key}`);
    }
    for (const code of [
      'PR_EXCEEDS_CHARGE', 'ALLOCATION_EXCEEDS_OPEN', 'ALLOCATIONS_EXCEED_PAYMENT', 'CHARGE_REQUIRED', 'ALLOCATION_NOT_ALLOWED', 'REFUND_EXCEEDS_REFUNDABLE', 'REFUND_METHOD_NOT_ALLOWED',
      'WRITE_OFF_EXCEEDS_OPEN', 'PR_CANCELLED', 'REMOVAL_EXCEEDS_ACTIVE', 'PR_FROM_REMITTANCE', 'DUPLICATE_REMITTANCE', 'INVALID_REMITTANCE',
      // docs/design.md §8
      'PAYMENT_VOIDED', 'PAYMENT_HAS_REFUNDS', 'NO_CREDIT', 'NOTHING_OPEN', 'CREDIT_EXCEEDED', 'REMITTANCE_NOT_FOUND', 'ALREADY_REVERSED', 'PR_HAS_WRITE_OFFS', 'PR_REVERSED',
      'ENTRY_NOT_ALLOWED', 'BATCH_OUT_OF_BALANCE', 'BATCH_HAS_DEPENDENTS', 'ALREADY_NEGATED', 'BATCH_NOT_POSTED',
    ]) {
      if (!refused[code]) missing.push(`no ${code} refusal`);
    }
    for (const [key, n] of Object.entries(stats)) if (typeof n === 'number' && n === 0) missing.push(`never ${key}`);
    for (const [method, n] of Object.entries(stats.refundsByMethod)) if (n === 0) missing.push(`no accepted ${method} refund`);
    expect(missing).toEqual([]);
  }
});
