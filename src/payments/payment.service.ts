import type { AuditCaller } from '../audit/audit.service';
import { MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import {
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  RequestedAllocation,
  checkAllocationCount,
  checkInstant,
  cleanText,
  isRefusal,
  linesOfCharge,
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
      apply: (write) => {
        const receivedAt = input.receivedAt ? checkInstant(input.receivedAt, 'received date', ['input', 'receivedAt']) : write.now;
        if (isRefusal(receivedAt)) return receivedAt;
        const charge = input.chargeId ? write.ledger.charges.get(input.chargeId) : null;
        if (input.chargeId && !charge) return notFound('charge for this patient', ['input', 'chargeId']);
        const payment = { amountCents: input.amountCents, method: input.method, purpose, chargeId: charge?.id ?? null, receivedAt };
        if (purpose === 'BALANCE') {
          const plan = planBalancePayment(input.amountCents, input.allocations ?? [], write.ledger.lines);
          if (isRefusal(plan)) return plan;
          const paymentId = write.addPayment(payment);
          for (const allocation of plan.allocations) write.allocate(paymentId, allocation.responsibilityId, allocation.amountCents, 'PAYMENT');
          return { paymentId };
        }
        const plan = planLinePayment(purpose, input.amountCents, charge ? { billedCents: charge.billedCents, lines: linesOfCharge(write.ledger, charge.id) } : null, (input.allocations ?? []).length > 0);
        if (isRefusal(plan)) return plan;
        const lineId = write.addLine({ chargeId: charge!.id, ...plan.line });
        const paymentId = write.addPayment(payment);
        write.allocate(paymentId, lineId, plan.line.amountCents, 'PAYMENT');
        return { paymentId };
      },
    });
  }

  refund(caller: AuditCaller, { idempotencyKey, ...input }: RefundCommand): Promise<MoneyOutcome<RefundResult>> {
    return this.mutations.run(caller, {
      operation: 'refundPayment',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'payments', input.paymentId, caller.actor.practiceId, ['input', 'paymentId']),
      apply: (write) => {
        const payment = write.ledger.payments.get(input.paymentId);
        if (!payment) return notFound('payment', ['input', 'paymentId']);
        const plan = planRefund(payment, payment.refundCount, input.method, input.amountCents);
        if (isRefusal(plan)) return plan;
        const reason = cleanText(input.reason, { label: 'reason', field: ['input', 'reason'] });
        if (isRefusal(reason)) return reason;
        const refundId = write.addRefund({ paymentId: payment.id, amountCents: plan.amountCents, returnedCents: plan.returnsMoney ? plan.amountCents : 0, method: input.method, reason });
        for (const takeback of plan.takebacks) write.reduce(takeback.allocationId, takeback.cents, plan.returnsMoney ? 'REFUND' : 'ACCOUNT_CREDIT', refundId);
        return { refundId, paymentId: payment.id };
      },
    });
  }
}
