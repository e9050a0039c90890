import { Arg, Args, ArgsType, Extensions, Field, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../graphql/context';
import { requireOperation } from '../graphql/authorize';
import { badUserInput } from '../graphql/errors';
import { MAX_AUDIT_ENTITY_IDS, MAX_WATCHED_PATIENTS } from '../ledger';
import type { BalanceView } from '../read-model/views';
import { PatientBalance } from './balance.types';

/** The list as sent is bounded (duplicates count), which also bounds the one query that reads the current balances. */
@ArgsType()
export class WatchedPatientsArgs {
  @Field(() => [ID], { description: `The patients to watch, of your practice: at least 1 id and at most ${MAX_WATCHED_PATIENTS}; a repeated id is watched once.` })
  @Extensions({ maxItems: MAX_WATCHED_PATIENTS })
  patientIds: string[];
}

/** The distinct ids to watch; BAD_USER_INPUT for an empty or too long list (which only patientBalancesChanged can send). */
function distinctWatchedIds(patientIds: readonly string[]): string[] {
  if (patientIds.length === 0) throw badUserInput('patientIds must name at least one patient.', 'patientIds');
  if (patientIds.length > MAX_WATCHED_PATIENTS) {
    throw badUserInput(`patientIds holds at most ${MAX_WATCHED_PATIENTS} ids; this one has ${patientIds.length}. Split the patients over several subscriptions.`, 'patientIds');
  }
  return [...new Set(patientIds)];
}

/**
 * Starts a stream of the given patients' balances, written once for one patient and for many: the role, the list's
 * bounds, the stream (NOT_FOUND unless every id is a patient of the caller's practice), then the audit of who watches
 * whom, durable before the first message. `AuditEvent.entityIds` holds at most MAX_AUDIT_ENTITY_IDS ids, so a longer
 * list is recorded as several events, in one transaction.
 */
async function watchPatients(ctx: RequestContext, operation: 'patientBalanceChanged' | 'patientBalancesChanged', requestedIds: readonly string[]) {
  requireOperation(ctx, `Subscription.${operation}`);
  const patientIds = distinctWatchedIds(requestedIds);
  const stream = await ctx.services.balanceSubscriptions.patients(ctx.actor, patientIds);
  try {
    await ctx.services.db.transaction(async (tx) => {
      for (let i = 0; i < patientIds.length; i += MAX_AUDIT_ENTITY_IDS) {
        const ids = patientIds.slice(i, i + MAX_AUDIT_ENTITY_IDS);
        await ctx.services.audit.recordIn(tx, ctx, { operation, outcome: 'READ', patientId: ids.length === 1 ? ids[0] : null, patientIds: ids, entityIds: ids });
      }
    });
  } catch (error) {
    await stream.return?.();
    throw error;
  }
  return stream;
}

@Resolver()
export class BalanceResolver {
  @Subscription(() => PatientBalance, {
    description:
      "The patient's current balance at once, then the whole new balance after every committed change. Ends with NOT_FOUND for an unknown patient.",
    subscribe: ({ args, context }) => watchPatients(context as RequestContext, 'patientBalanceChanged', [String(args.patientId)]),
  })
  patientBalanceChanged(@Root() balance: BalanceView, @Arg('patientId', () => ID, { description: 'The patient to watch.' }) _patientId: string): BalanceView {
    return balance;
  }

  @Subscription(() => PatientBalance, {
    description:
      `For a dashboard on one socket: each patient's current balance at once (one message per patient), then the whole new balance after every committed change to any of them (newest per patient if you fall behind). Ends with NOT_FOUND, before any message, when any id is not a patient of your practice; an empty list or more than ${MAX_WATCHED_PATIENTS} ids is BAD_USER_INPUT.`,
    subscribe: ({ args, context }) => watchPatients(context as RequestContext, 'patientBalancesChanged', (args as WatchedPatientsArgs).patientIds),
  })
  patientBalancesChanged(@Root() balance: BalanceView, @Args() _watched: WatchedPatientsArgs): BalanceView {
    return balance;
  }

  @Subscription(() => PatientBalance, {
    description: 'The whole new balance of any patient of your practice after every committed change (newest per patient if you fall behind).',
    subscribe: async ({ context }) => {
      const ctx = context as RequestContext;
      requireOperation(ctx, 'Subscription.practiceBalanceChanged');
      await ctx.services.audit.record(ctx, { operation: 'practiceBalanceChanged', outcome: 'READ' });
      return ctx.services.balanceSubscriptions.practice(ctx.actor);
    },
  })
  practiceBalanceChanged(@Root() balance: BalanceView): BalanceView {
    return balance;
  }
}
