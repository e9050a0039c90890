import { Arg, Ctx, Extensions, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { loadExisting, loadOptional } from '../graphql/loaders';
import { Availability } from '../graphql/common.types';
import { moneyPayload } from '../graphql/payloads';
import { Patient } from '../patients/patient.types';
import { Responsibility } from '../responsibilities/responsibility.types';
import { roleCan } from '../auth/roles';
import { MAX_LINES_PER_PAYMENT, MAX_REFUNDS_PER_PAYMENT, nextRefundBlocker, toAvailability } from '../ledger';
import { PostingBatch } from '../posting/posting.types';
import type { AllocationView, LineView, PatientView, PaymentView, PostingBatchView, RefundView } from '../read-model/views';
import {
  Allocation,
  ApplyCreditInput,
  ApplyCreditPayload,
  Payment,
  RecordPaymentInput,
  RecordPaymentPayload,
  Refund,
  RefundPaymentInput,
  RefundPaymentPayload,
  VoidPaymentInput,
  VoidPaymentPayload,
} from './payment.types';

@Resolver(() => Payment)
export class PaymentResolver {
  @Query(() => Payment, { nullable: true, description: 'A payment of your practice; null when there is none with that id.' })
  payment(@Arg('id', () => ID, { description: 'Payment id.' }) id: string, @Ctx() ctx: RequestContext): Promise<PaymentView | null> {
    return ctx.loaders.payment.load(id);
  }

  @Mutation(() => RecordPaymentPayload, { description: 'Record a payment: allocated to PR lines, or creating the up-front/self-pay line it pays.' })
  async recordPayment(@Arg('input', { description: 'What to do; see the input type.' }) input: RecordPaymentInput, @Ctx() ctx: RequestContext): Promise<RecordPaymentPayload> {
    const outcome = await ctx.services.payments.record(ctx, input);
    return moneyPayload(ctx, outcome, { payment: null }, async (loaders, r) => ({ payment: await loaders.payment.load(r.paymentId) }));
  }

  @Mutation(() => RefundPaymentPayload, { description: 'Refund (part of) a payment, or move it to credit (ACCOUNT_CREDIT). Money taken off a line reopens it.' })
  async refundPayment(@Arg('input', { description: 'What to do; see the input type.' }) input: RefundPaymentInput, @Ctx() ctx: RequestContext): Promise<RefundPaymentPayload> {
    const outcome = await ctx.services.payments.refund(ctx, input);
    return moneyPayload(ctx, outcome, { refund: null, payment: null }, async (loaders, r) => ({
      refund: await loaders.refund.load(r.refundId),
      payment: await loaders.payment.load(r.paymentId),
    }));
  }

  @Mutation(() => VoidPaymentPayload, {
    description: 'Void a payment entered in error or a bounced check: its allocations are released (lines reopen) and its credit is gone.',
  })
  async voidPayment(@Arg('input', { description: 'What to do; see the input type.' }) input: VoidPaymentInput, @Ctx() ctx: RequestContext): Promise<VoidPaymentPayload> {
    const outcome = await ctx.services.payments.void(ctx, input);
    return moneyPayload(ctx, outcome, { payment: null }, async (loaders, r) => ({ payment: await loaders.payment.load(r.paymentId) }));
  }

  @Mutation(() => ApplyCreditPayload, { description: "Move a patient's credit to open PR lines: where you say, or the oldest date of service first." })
  async applyCredit(@Arg('input', { description: 'What to do; see the input type.' }) input: ApplyCreditInput, @Ctx() ctx: RequestContext): Promise<ApplyCreditPayload> {
    const outcome = await ctx.services.credit.apply(ctx, input);
    return moneyPayload(ctx, outcome, { payments: [] }, async (loaders, r) => ({ payments: await loadExisting(loaders.payment, r.paymentIds) }));
  }

  @FieldResolver(() => Patient, { description: 'Who paid.' })
  async patient(@Root() payment: PaymentView, @Ctx() ctx: RequestContext): Promise<PatientView> {
    return (await ctx.loaders.patient.load(payment.patientId))!;
  }

  @FieldResolver(() => [Allocation], { description: `Where the money sits now, line by line. At most ${MAX_LINES_PER_PAYMENT} lines.` })
  @Extensions({ maxItems: MAX_LINES_PER_PAYMENT })
  allocations(@Root() payment: PaymentView): AllocationView[] {
    // Only a payment from before the cap could sit on more lines.
    return payment.allocations.slice(0, MAX_LINES_PER_PAYMENT);
  }

  @FieldResolver(() => [Refund], { description: `Its refunds, oldest first. At most ${MAX_REFUNDS_PER_PAYMENT}.` })
  @Extensions({ maxItems: MAX_REFUNDS_PER_PAYMENT })
  async refunds(@Root() payment: PaymentView, @Ctx() ctx: RequestContext): Promise<RefundView[]> {
    // Only a payment from before the cap could have more.
    return (await ctx.loaders.refundsOfPayment.load(payment.id)).slice(0, MAX_REFUNDS_PER_PAYMENT);
  }

  @FieldResolver(() => PostingBatch, { nullable: true, description: 'The posting batch that posted it; null for a payment recorded on its own.' })
  batch(@Root() payment: PaymentView, @Ctx() ctx: RequestContext): Promise<PostingBatchView | null> {
    return loadOptional(ctx.loaders.postingBatch, payment.batchId);
  }

  @FieldResolver(() => Availability, { description: 'Whether you can refund this payment now, and the tooltip if not.' })
  async canRefund(@Root() payment: PaymentView, @Ctx() ctx: RequestContext): Promise<Availability> {
    const refunds = await ctx.loaders.refundsOfPayment.load(payment.id);
    return toAvailability(nextRefundBlocker(payment, refunds.length, roleCan(ctx.actor.role, 'REFUND')));
  }
}

@Resolver(() => Allocation)
export class AllocationResolver {
  @FieldResolver(() => Responsibility, { description: 'The PR line.' })
  async responsibility(@Root() allocation: AllocationView, @Ctx() ctx: RequestContext): Promise<LineView> {
    return (await ctx.loaders.line.load(allocation.responsibilityId))!;
  }
}
