import type { AuditCaller } from '../audit/audit.service';
import { MoneyCommand, MoneyMutations, MoneyOutcome } from '../ledger-store/money-mutations';
import { patientOwning } from '../ledger-store/locate';
import {
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  RequestedAllocation,
  checkAllocationCount,
  checkInstant,
  cleanReason,
  isRefusal,
  linesOfCharge,
  notFound,
  planBalancePayment,
  planLinePayment,
  planRefund,
  planVoid,
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

export interface VoidPaymentCommand {
  paymentId: string;
  reason: string;
  idempotencyKey?: string | null;
}

/** A payment, and the line it created when it pays its own (an up-front or self-pay payment). */
export type PaymentResult = { paymentId: string; responsibilityId?: string };
export type RefundResult = { refundId: string; paymentId: string };

/** Payments, their allocations, and refunds (docs/design.md §2.2). */
export class PaymentService {
  constructor(private readonly mutations: MoneyMutations) {}

  record(caller: AuditCaller, command: RecordPaymentCommand): Promise<MoneyOutcome<PaymentResult>> {
    return this.mutations.run(caller, this.recordCommand(caller, command));
  }

  refund(caller: AuditCaller, command: RefundCommand): Promise<MoneyOutcome<RefundResult>> {
    return this.mutations.run(caller, this.refundCommand(caller, command));
  }

  /** A payment entered in error or a bounced check leaves the ledger whole (docs/design.md §8.2). */
  void(caller: AuditCaller, command: VoidPaymentCommand): Promise<MoneyOutcome<PaymentResult>> {
    return this.mutations.run(caller, this.voidCommand(caller, command));
  }

  /** recordPayment as a command: run alone, or as an entry of a posting batch. */
  recordCommand(caller: AuditCaller, { idempotencyKey, ...input }: RecordPaymentCommand): MoneyCommand<PaymentResult> {
    const purpose = input.purpose ?? 'BALANCE';
    return {
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
        return { paymentId, responsibilityId: lineId };
      },
    };
  }

  refundCommand(caller: AuditCaller, { idempotencyKey, ...input }: RefundCommand): MoneyCommand<RefundResult> {
    return {
      operation: 'refundPayment',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'payments', input.paymentId, caller.actor.practiceId, ['input', 'paymentId']),
      apply: (write) => {
        const payment = write.ledger.payments.get(input.paymentId);
        if (!payment) return notFound('payment', ['input', 'paymentId']);
        const plan = planRefund(payment, payment.refundCount, input.method, input.amountCents);
        if (isRefusal(plan)) return plan;
        const reason = cleanReason(input.reason);
        if (isRefusal(reason)) return reason;
        const refundId = write.addRefund({ paymentId: payment.id, amountCents: plan.amountCents, returnedCents: plan.returnsMoney ? plan.amountCents : 0, method: input.method, reason });
        for (const takeback of plan.takebacks) write.reduce(takeback.allocationId, takeback.cents, plan.returnsMoney ? 'REFUND' : 'ACCOUNT_CREDIT', refundId);
        return { refundId, paymentId: payment.id };
      },
    };
  }

  voidCommand(caller: AuditCaller, { idempotencyKey, ...input }: VoidPaymentCommand): MoneyCommand<PaymentResult> {
    return {
      operation: 'voidPayment',
      input,
      idempotencyKey,
      locate: (sql) => patientOwning(sql, 'payments', input.paymentId, caller.actor.practiceId, ['input', 'paymentId']),
      apply: (write) => {
        const payment = write.ledger.payments.get(input.paymentId);
        if (!payment) return notFound('payment', ['input', 'paymentId']);
        const plan = planVoid(payment);
        if (isRefusal(plan)) return plan;
        const reason = cleanReason(input.reason);
        if (isRefusal(reason)) return reason;
        for (const release of plan.releases) write.reduce(release.allocationId, release.cents, 'VOID');
        write.voidPayment(payment.id, plan.voidedCents, reason);
        return { paymentId: payment.id };
      },
    };
  }
}
