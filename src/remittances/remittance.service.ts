import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { Adjustment, RefusalCode, allAllocations, checkAdjustmentCount, cleanText, isRefusal, linesOfCharge, notFound, planRemittance, refusal } from '../ledger';

export interface RecordRemittanceCommand {
  chargeId: string;
  remittanceId: string;
  adjustments: Adjustment[];
  idempotencyKey?: string | null;
}

export type RemittanceResult = { chargeId: string; remittanceRecordId: string };

const SUPERSEDED = 'superseded by remittance';

/** Turning an insurer's adjudication of one charge into PR (docs/design.md §2.8). */
export class RemittanceService {
  constructor(private readonly mutations: MoneyMutations) {}

  record(caller: AuditCaller, { idempotencyKey, ...input }: RecordRemittanceCommand): Promise<MoneyOutcome<RemittanceResult>> {
    return this.mutations.run(caller, {
      operation: 'recordRemittance',
      input,
      inputRefusal: checkAdjustmentCount(input.adjustments.length),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'charges', input.chargeId, caller.actor.practiceId, ['input', 'chargeId']),
      apply: (write) => {
        const externalId = cleanText(input.remittanceId, { label: 'remittance id', field: ['input', 'remittanceId'] });
        if (isRefusal(externalId)) return externalId;
        const charge = write.ledger.charges.get(input.chargeId);
        if (!charge) return notFound('charge', ['input', 'chargeId']);
        if (charge.remittanceIds.has(externalId)) {
          return refusal(RefusalCode.DUPLICATE_REMITTANCE, `Remittance ${externalId} was already recorded for this charge.`, ['input', 'remittanceId']);
        }
        const plan = planRemittance(
          { billedCents: charge.billedCents, lines: linesOfCharge(write.ledger, charge.id) },
          input.adjustments,
          allAllocations(write.ledger),
          [...write.ledger.writeOffs.values()],
        );
        if (isRefusal(plan)) return plan;

        const remittanceId = write.addRemittance({ chargeId: charge.id, externalId, adjustments: JSON.stringify(plan.adjustments) });
        const newLineIds = plan.newLines.map((line) =>
          write.addLine({ chargeId: charge.id, kind: line.kind, origin: 'REMITTANCE', amountCents: line.amountCents, remittanceId, reasonCode: line.reasonCode }),
        );
        for (const reversal of plan.reversals) write.removeWriteOff(reversal.writeOffId, reversal.cents, SUPERSEDED);
        for (const reduction of plan.reductions) write.reduce(reduction.allocationId, reduction.cents, 'SUPERSEDED');
        for (const lineId of plan.supersededLineIds) write.cancelLine(lineId, SUPERSEDED);
        for (const move of plan.moves) {
          const target = 'newLine' in move.target ? newLineIds[move.target.newLine] : move.target.responsibilityId;
          write.allocate(move.paymentId, target, move.cents, 'REMITTANCE_MOVE');
        }
        return { chargeId: charge.id, remittanceRecordId: remittanceId };
      },
    });
  }
}
