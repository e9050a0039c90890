import type { AuditCaller } from '../audit/audit.service';
import { MoneyCommand, MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { CreditLine, RequestedAllocation, checkAllocationCount, isRefusal, planApplyCredit } from '../ledger';

export interface ApplyCreditCommand {
  patientId: string;
  /** Omitted or empty: the oldest date of service first, then the oldest line (docs/design.md §8.4). */
  allocations?: RequestedAllocation[] | null;
  idempotencyKey?: string | null;
}

/** The payments whose credit was applied, oldest first, and the allocations that applied it. */
export type ApplyCreditResult = { patientId: string; paymentIds: string[]; allocationIds: string[] };

/** Applying a patient's credit (unallocated money) to open PR lines (docs/design.md §8.4). */
export class CreditService {
  constructor(private readonly mutations: MoneyMutations) {}

  apply(caller: AuditCaller, command: ApplyCreditCommand): Promise<MoneyOutcome<ApplyCreditResult>> {
    return this.mutations.run(caller, this.applyCommand(caller, command));
  }

  /** applyCredit as a command: run alone, or as an entry of a posting batch. */
  applyCommand(caller: AuditCaller, { idempotencyKey, ...input }: ApplyCreditCommand): MoneyCommand<ApplyCreditResult> {
    return {
      operation: 'applyCredit',
      input,
      inputRefusal: checkAllocationCount(input.allocations?.length ?? 0),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'patients', input.patientId, caller.actor.practiceId, ['input', 'patientId']),
      apply: (write) => {
        const { ledger } = write;
        const lines: CreditLine[] = [...ledger.lines.values()].map((line) => ({ ...line, serviceDate: ledger.charges.get(line.chargeId)!.serviceDate }));
        const plan = planApplyCredit([...ledger.payments.values()], lines, input.allocations);
        if (isRefusal(plan)) return plan;
        const allocationIds = plan.map((a) => write.allocate(a.paymentId, a.responsibilityId, a.cents, 'CREDIT'));
        return { patientId: ledger.patientId, paymentIds: [...new Set(plan.map((a) => a.paymentId))], allocationIds };
      },
    };
  }
}
