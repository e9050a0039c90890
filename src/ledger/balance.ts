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
