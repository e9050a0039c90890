import type { BalanceTotals } from '../ledger';

/** A patient's whole recalculated balance after a committed change (docs/design.md §2.6). Never a delta. */
export interface BalanceEvent extends BalanceTotals {
  practiceId: string;
  patientId: string;
  version: number;
  updatedAt: string;
}

/** Carries committed balances to every subscriber: in process by default, through Redis between instances. */
export interface BalanceBus {
  publish(event: BalanceEvent): void;
  /** Listens to one practice's events; returns the function that stops listening. */
  listen(practiceId: string, listener: (event: BalanceEvent) => void): () => void;
  /** Called with no argument whenever delivery may have had a gap (e.g. a Redis reconnect), so subscribers resync. */
  onGap(listener: () => void): () => void;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
