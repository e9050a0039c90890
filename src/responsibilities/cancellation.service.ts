import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { cleanText, isRefusal, notFound, planCancel } from '../ledger';

export interface CancelCommand {
  responsibilityId: string;
  reason: string;
  idempotencyKey?: string | null;
}

export type CancelResult = { responsibilityId: string };

/** Cancelling PR that should never have existed (docs/design.md §2.4). */
export class CancellationService {
  constructor(private readonly mutations: MoneyMutations) {}

  cancel(caller: AuditCaller, { idempotencyKey, ...input }: CancelCommand): Promise<MoneyOutcome<CancelResult>> {
    return this.mutations.run(caller, {
      operation: 'cancelPR',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'responsibilities', input.responsibilityId, caller.actor.practiceId, ['input', 'responsibilityId']),
      apply: async (ledger, write) => {
        const line = ledger.lines.get(input.responsibilityId);
        if (!line) return notFound('PR line', ['input', 'responsibilityId']);
        const allocations = [...ledger.payments.values()].flatMap((p) => p.allocations);
        const plan = planCancel(line, allocations);
        if (isRefusal(plan)) return plan;
        const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
        if (isRefusal(reason)) return reason;
        await write.tx.query(
          `UPDATE responsibilities SET status = 'CANCELLED', cancelled_at = ?, cancelled_by = ?, cancel_reason = ?
           WHERE id = ? AND practice_id = ? AND status = 'ACTIVE'`,
          [write.now, write.actorId, reason, line.id, write.practiceId],
        );
        const byId = new Map(allocations.map((a) => [a.id, a]));
        for (const release of plan.releases) await write.reduce(byId.get(release.allocationId)!, release.cents, 'CANCELLATION');
        return { responsibilityId: line.id };
      },
    });
  }
}
