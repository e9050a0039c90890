import { Column, Entity, Index } from 'typeorm';
import { CentsColumn, IdColumn, InstantColumn, IntColumn, LongTextColumn, PracticeColumn, TextColumn } from '../db/columns';
import type { WriteOffReason } from '../ledger';

/**
 * A write-off rule (docs/design.md §9.2): which open PR lines a run proposes to write off, and with which reason.
 * Edited in place by BILLING_MANAGER and ADMIN (who and when last is kept), deactivated instead of deleted: a row is
 * never deleted.
 */
@Entity('write_off_rules')
@Index('write_off_rules_practice', ['practiceId', 'createdAt', 'id'])
export class WriteOffRuleEntity {
  @IdColumn() id: string;
  @PracticeColumn() practiceId: string;
  @TextColumn('name', 255) name: string;
  @TextColumn('reason', 32) reason: WriteOffReason;
  @TextColumn('custom_reason', 255, { nullable: true }) customReason: string | null;
  /** A line qualifies when what is open on it is at most this. */
  @CentsColumn('max_open_cents') maxOpenCents: number;
  /** And when its charge's date of service is at least this many days before the run's date. */
  @IntColumn('min_days_since_service', { default: 0 }) minDaysSinceService: number;
  /** The PR kinds it applies to, as a JSON array; null for every kind. */
  @LongTextColumn('kinds', { nullable: true }) kinds: string | null;
  @Column({ name: 'active', type: 'boolean', default: true }) active: boolean;
  @InstantColumn('created_at') createdAt: string;
  @TextColumn('created_by', 255) createdBy: string;
  @InstantColumn('updated_at') updatedAt: string;
  @TextColumn('updated_by', 255) updatedBy: string;
}
