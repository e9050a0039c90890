import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../graphql/context';
import { requireOperation } from '../graphql/authorize';
import type { BalanceView } from '../read-model/views';
import { PatientBalance } from './balance.types';

@Resolver()
export class BalanceResolver {
  @Subscription(() => PatientBalance, {
    description:
      "The patient's current balance at once, then the whole new balance after every committed change. Ends with NOT_FOUND for an unknown patient.",
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      requireOperation(ctx, 'Subscription.patientBalanceChanged');
      const stream = await ctx.services.balanceSubscriptions.patient(ctx.actor, String(args.patientId));
      try {
        await ctx.services.audit.record(ctx, { operation: 'patientBalanceChanged', outcome: 'READ', patientId: String(args.patientId), entityIds: [String(args.patientId)] });
      } catch (error) {
        await stream.return?.();
        throw error;
      }
      return stream;
    },
  })
  patientBalanceChanged(@Root() balance: BalanceView, @Arg('patientId', () => ID, { description: 'The patient to watch.' }) _patientId: string): BalanceView {
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
