import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RequestContext, refreshLoaders } from '../graphql/context';
import { loadExisting } from '../graphql/loaders';
import { PageArgs, connection, pageRequest, userErrors } from '../graphql/common.types';
import { badUserInput } from '../graphql/errors';
import { PatientBalance } from '../balances/balance.types';
import { ChargeConnection } from '../charges/charge.types';
import { PaymentConnection } from '../payments/payment.types';
import { BalanceSnapshot } from '../posting/posting.types';
import { instantArg } from '../audit/audit.resolver';
import { isRefusal } from '../ledger';
import type { BalanceSnapshotView, BalanceView, ChargeView, PatientView } from '../read-model/views';
import { CreatePatientInput, CreatePatientPayload, Patient, PatientConnection } from './patient.types';

@Resolver(() => Patient)
export class PatientResolver {
  @Query(() => Patient, { nullable: true, description: 'A patient of your practice; null when there is none with that id.' })
  patient(@Arg('id', () => ID, { description: 'Patient id.' }) id: string, @Ctx() ctx: RequestContext): Promise<PatientView | null> {
    return ctx.loaders.patient.load(id);
  }

  @Query(() => PatientConnection, { description: 'Patients of your practice by last name, first name; `search` matches any part of the name, or the exact MRN.' })
  async patients(
    @Args() page: PageArgs,
    @Arg('search', () => String, { nullable: true, description: 'Name fragment or MRN (up to 100 characters).' }) search: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PatientConnection> {
    const { first, after } = pageRequest(page, 3);
    const term = search?.trim() || null;
    if (term && term.length > 100) throw badUserInput('search is at most 100 characters.', 'search');
    const result = await ctx.services.reader.listPatients(ctx.actor.practiceId, first, after, term);
    return connection(result.rows, result.hasNextPage, Boolean(after), (p) => [p.lastName, p.firstName, p.id]);
  }

  @Mutation(() => CreatePatientPayload, { description: 'Create a patient (balance 0, version 0).' })
  async createPatient(@Arg('input', { description: 'What to do; see the input type.' }) input: CreatePatientInput, @Ctx() ctx: RequestContext): Promise<CreatePatientPayload> {
    const created = await ctx.services.patients.create(ctx, input);
    if (isRefusal(created)) return { patient: null, userErrors: userErrors(created) };
    return { patient: await refreshLoaders(ctx).patient.load(created.patientId), userErrors: [] };
  }

  @FieldResolver(() => PatientBalance, { description: "The patient's balance now." })
  balance(@Root() patient: PatientView): BalanceView {
    return patient.balance;
  }

  @FieldResolver(() => BalanceSnapshot, {
    description:
      "The patient's balance rebuilt from what was recorded up to `at` (a cancellation, reversal or void counts from its own time), " +
      'with the version the patient had then. A snapshot without an identity: it never replaces the live `balance` in a client cache.',
  })
  balanceAsOf(
    @Root() patient: PatientView,
    @Arg('at', { description: 'The instant: an ISO-8601 date-time with Z or an offset (e.g. 2026-11-01T17:00:00-05:00), or a date YYYY-MM-DD meaning midnight UTC.' })
    at: string,
    @Ctx() ctx: RequestContext,
  ): Promise<BalanceSnapshotView> {
    return ctx.services.balances.asOf(ctx.actor.practiceId, patient.id, instantArg(at, 'at'));
  }

  @FieldResolver(() => ChargeConnection, { description: "The patient's charges, newest date of service first." })
  async charges(@Root() patient: PatientView, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<ChargeConnection> {
    const { first, after } = pageRequest(page, 2);
    const result = await ctx.services.reader.listCharges(ctx.actor.practiceId, patient.id, first, after);
    result.rows.forEach((charge) => ctx.loaders.charge.prime(charge.id, charge));
    return connection<ChargeView>(result.rows, result.hasNextPage, Boolean(after), (c) => [c.serviceDate, c.id]);
  }

  @FieldResolver(() => PaymentConnection, { description: "The patient's payments, most recently received first." })
  async payments(@Root() patient: PatientView, @Args() page: PageArgs, @Ctx() ctx: RequestContext): Promise<PaymentConnection> {
    const { first, after } = pageRequest(page, 2);
    const result = await ctx.services.reader.listPaymentIds(ctx.actor.practiceId, patient.id, first, after);
    const payments = await loadExisting(ctx.loaders.payment, result.rows);
    return connection(payments, result.hasNextPage, Boolean(after), (p) => [p.receivedAt, p.id]);
  }
}
