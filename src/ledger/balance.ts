import { openCents, unallocatedCents } from './lines';
import { sumCents } from './money';
import { LineState, PaymentState } from './types';

/** A patient's money at one instant (docs/design.md §2.6). Credit is reported beside outstanding, never netted into it. */
export interface BalanceTotals {
  responsibilityCents: number;
  paidCents: number;
  writtenOffCents: number;
  outstandingCents: number;
  creditCents: number;
}

/**
 * A patient's totals with the version they belong to, without an identity: a past balance (docs/design.md §8.5) or
 * a previewed one (§8.1). The ledger store computes it, the read model and GraphQL show it.
 */
export interface BalanceSnapshot extends BalanceTotals {
  patientId: string;
  version: number;
}

export function computeBalance(lines: readonly LineState[], payments: readonly PaymentState[]): BalanceTotals {
  const active = lines.filter((l) => l.status === 'ACTIVE');
  return {
    responsibilityCents: sumCents(active.map((l) => l.amountCents)),
    paidCents: sumCents(active.map((l) => l.paidCents)),
    writtenOffCents: sumCents(active.map((l) => l.writtenOffCents)),
    outstandingCents: sumCents(active.map((l) => Math.max(0, openCents(l)))),
    creditCents: sumCents(payments.map(unallocatedCents)),
  };
}
