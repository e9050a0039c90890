import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import { ResponsibilityEntity } from '../responsibilities/responsibility.entity';
import { PaymentEntity, RefundEntity } from './payment.entity';
import {
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  RequestedAllocation,
  checkAllocationCount,
  checkInstant,
  cleanText,
  isRefusal,
  notFound,
  planBalancePayment,
  planLinePayment,
  planRefund,
} from '../ledger';

export interface RecordPaymentCommand {
  patientId: string;
  amountCents: number;
  method: PaymentMethod;
  purpose?: PaymentPurpose | null;
  chargeId?: string | null;
  allocations?: RequestedAllocation[] | null;
  receivedAt?: string | null;
  idempotencyKey?: string | null;
}

export interface RefundCommand {
  paymentId: string;
  amountCents?: number | null;
  method: RefundMethod;
  reason: string;
  idempotencyKey?: string | null;
}

export type PaymentResult = { paymentId: string };
export type RefundResult = { refundId: string; paymentId: string };

/** Payments, their allocations, and refunds (docs/design.md §2.2). */
export class PaymentService {
  constructor(private readonly mutations: MoneyMutations) {}

  record(caller: AuditCaller, { idempotencyKey, ...input }: RecordPaymentCommand): Promise<MoneyOutcome<PaymentResult>> {
    const purpose = input.purpose ?? 'BALANCE';
    return this.mutations.run(caller, {
      operation: 'recordPayment',
      input: { ...input, purpose },
      inputRefusal: checkAllocationCount(input.allocations?.length ?? 0),
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'patients', input.patientId, caller.actor.practiceId, ['input', 'patientId']),
      apply: async (ledger, write) => {
        const receivedAt = input.receivedAt ? checkInstant(input.receivedAt, 'received date', ['input', 'receivedAt']) : write.now;
        if (isRefusal(receivedAt)) return receivedAt;
        let charge: { id: string; billedCents: number } | null = null;
        if (input.chargeId) {
          const rows = await write.tx.query('SELECT id, billed_cents FROM charges WHERE id = ? AND patient_id = ? AND practice_id = ?', [
            input.chargeId,
            ledger.patientId,
            write.practiceId,
          ]);
          if (rows.length !== 1) return notFound("charge for this patient", ['input', 'chargeId']);
          charge = { id: String(rows[0].id), billedCents: Number(rows[0].billed_cents) };
        }
        const payment = { ...write.authored(), amountCents: input.amountCents, method: input.method, purpose, chargeId: charge?.id ?? null, receivedAt, batchId: null };
        if (purpose === 'BALANCE') {
          const plan = planBalancePayment(input.amountCents, input.allocations ?? [], ledger.lines);
          if (isRefusal(plan)) return plan;
          await write.insert(PaymentEntity, payment);
          for (const allocation of plan.allocations) await write.allocate(payment.id, allocation.responsibilityId, allocation.amountCents, 'PAYMENT');
        } else {
          const chargeLines = [...ledger.lines.values()].filter((l) => l.chargeId === charge?.id);
          const plan = planLinePayment(purpose, input.amountCents, charge && { billedCents: charge.billedCents, lines: chargeLines }, (input.allocations ?? []).length > 0);
          if (isRefusal(plan)) return plan;
          const line = { ...write.authored(), chargeId: charge!.id, ...plan.line, status: 'ACTIVE' as const };
          await write.insert(ResponsibilityEntity, line);
          await write.insert(PaymentEntity, payment);
          await write.allocate(payment.id, line.id, plan.line.amountCents, 'PAYMENT');
        }
        return { paymentId: payment.id };
      },
    });
  }

  refund(caller: AuditCaller, { idempotencyKey, ...input }: RefundCommand): Promise<MoneyOutcome<RefundResult>> {
    return this.mutations.run(caller, {
      operation: 'refundPayment',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'payments', input.paymentId, caller.actor.practiceId, ['input', 'paymentId']),
      apply: async (ledger, write) => {
        const payment = ledger.payments.get(input.paymentId);
        if (!payment) return notFound('payment', ['input', 'paymentId']);
        // How it was paid decides whether ORIGINAL_CARD can take it back; a payment's method never changes.
        const [paid] = await write.tx.query<{ method: PaymentMethod }>('SELECT method FROM payments WHERE id = ? AND practice_id = ?', [payment.id, write.practiceId]);
        const plan = planRefund({ ...payment, method: paid.method }, payment.refundCount, input.method, input.amountCents);
        if (isRefusal(plan)) return plan;
        const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
        if (isRefusal(reason)) return reason;
        const refund = {
          ...write.authored(),
          paymentId: payment.id,
          amountCents: plan.amountCents,
          returnedCents: plan.returnsMoney ? plan.amountCents : 0,
          method: input.method,
          reason,
        };
        await write.insert(RefundEntity, refund);
        const byId = new Map(payment.allocations.map((a) => [a.id, a]));
        for (const takeback of plan.takebacks) {
          await write.reduce(byId.get(takeback.allocationId)!, takeback.cents, plan.returnsMoney ? 'REFUND' : 'ACCOUNT_CREDIT', refund.id);
        }
        return { refundId: refund.id, paymentId: payment.id };
      },
    });
  }
}
