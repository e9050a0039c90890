import type { MoneyOutcome, MutationResult } from '../ledger-store/money-mutations';
import type { BalanceView } from '../read-model/views';
import { RequestContext, refreshLoaders } from './context';
import type { Loaders } from './loaders';
import { UserError, userErrors } from './common.types';

/**
 * Turns a money mutation's outcome into its payload: on success the changed objects as they are now, read after
 * commit, and the balance the mutation left the patient with (its own version: mutations that committed with it or
 * after it have later versions, and a client cache keeps the newest); a replay reads the balance as it is now. On
 * refusal empty objects and the userError.
 */
export async function moneyPayload<R extends MutationResult, P extends object>(
  ctx: RequestContext,
  outcome: MoneyOutcome<R>,
  empty: P,
  build: (loaders: Loaders, result: R) => Promise<P>,
): Promise<P & { balance: BalanceView | null; userErrors: UserError[] }> {
  if (outcome.status === 'refused') return { ...empty, balance: null, userErrors: userErrors(outcome.refusal) };
  const loaders = refreshLoaders(ctx);
  const [fields, balance] = await Promise.all([build(loaders, outcome.result), outcome.status === 'accepted' ? outcome.balance : loaders.balance.load(outcome.patientId)]);
  return { ...fields, balance, userErrors: [] };
}
