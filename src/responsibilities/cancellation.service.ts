import type { AuditCaller } from '../audit/audit.service';
import { MoneyCommand, MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { allAllocations, cleanText, isRefusal, notFound, planCancel } from '../ledger';

export interface CancelCommand {
  responsibilityId: string;
  reason: string;
  idempotencyKey?: string | null;
}

export type CancelResult = { responsibilityId: string };

/** Cancelling PR that should never have existed (docs/design.md §2.4). */
export class CancellationService {
  constructor(private readonly mutations: MoneyMutations) {}

  cancel(caller: AuditCaller, command: CancelCommand): Promise<MoneyOutcome<CancelResult>> {
    return this.mutations.run(caller, this.cancelCommand(caller, command));
  }

  /** cancelPR as a command: run alone, or as part of negating a batch. */
  cancelCommand(caller: AuditCaller, { idempotencyKey, ...input }: CancelCommand): MoneyCommand<CancelResult> {
    return {
      operation: 'cancelPR',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'responsibilities', input.responsibilityId, caller.actor.practiceId, ['input', 'responsibilityId']),
      apply: (write) => {
        const line = write.ledger.lines.get(input.responsibilityId);
        if (!line) return notFound('PR line', ['input', 'responsibilityId']);
        const plan = planCancel(line, allAllocations(write.ledger));
        if (isRefusal(plan)) return plan;
        const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
        if (isRefusal(reason)) return reason;
        // Its payments are released first: a cancelled line holds nothing (§2.4).
        for (const release of plan.releases) write.reduce(release.allocationId, release.cents, 'CANCELLATION');
        write.cancelLine(line.id, reason);
        return { responsibilityId: line.id };
      },
    };
  }
}
