import crypto from 'node:crypto';
import type { Transaction } from '../db/database';
import type { AllocationReductionCause } from '../ledger';
import { AllocationEntity, AllocationReductionEntity } from '../payments/payment.entity';
import type { LedgerAllocation } from './patient-ledger';

/**
 * Writes ledger rows for one money mutation on one patient: every row gets the practice, the patient, the same
 * timestamp, and its place in the patient's ledger (`sequence`).
 */
export class LedgerWriter {
  private ordinal = 0;

  constructor(
    readonly tx: Transaction,
    readonly practiceId: string,
    readonly patientId: string,
    readonly actorId: string,
    readonly now: string,
    /** The version this mutation gives the patient. */
    readonly version: number,
  ) {}

  newId(): string {
    return crypto.randomUUID();
  }

  /** Fields every ledger row carries; `sequence` orders the rows of this mutation after every earlier one. */
  base(): { id: string; practiceId: string; patientId: string; createdAt: string; sequence: number } {
    return { id: this.newId(), practiceId: this.practiceId, patientId: this.patientId, createdAt: this.now, sequence: this.version * 100_000 + this.ordinal++ };
  }

  /** Same as `base`, for rows that also record who made them. */
  authored(): ReturnType<LedgerWriter['base']> & { createdBy: string } {
    return { ...this.base(), createdBy: this.actorId };
  }

  async insert<T extends object>(entity: new () => T, row: Partial<T>): Promise<void> {
    await this.tx.manager.insert(entity, row as never);
  }

  async allocate(paymentId: string, responsibilityId: string, cents: number, source: AllocationEntity['source']): Promise<string> {
    const row = { ...this.base(), paymentId, responsibilityId, amountCents: cents, source };
    await this.insert(AllocationEntity, row);
    return row.id;
  }

  async reduce(
    allocation: Pick<LedgerAllocation, 'id' | 'paymentId' | 'responsibilityId'>,
    cents: number,
    cause: AllocationReductionCause,
    refundId: string | null = null,
  ): Promise<void> {
    await this.insert(AllocationReductionEntity, {
      ...this.base(),
      allocationId: allocation.id,
      paymentId: allocation.paymentId,
      responsibilityId: allocation.responsibilityId,
      amountCents: cents,
      cause,
      refundId,
    });
  }
}
