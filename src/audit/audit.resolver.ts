import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { PageArgs, connection, pageRequest } from '../graphql/common.types';
import { badUserInput } from '../graphql/errors';
import { AuditEvent, AuditEventConnection } from './audit.types';

function instantArg(value: string | null, name: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badUserInput(`${name} must be an ISO-8601 date or date-time.`, name);
  return date.toISOString();
}

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'The audit trail of your practice, newest first. BILLING_MANAGER and ADMIN only.' })
  async auditTrail(
    @Args() page: PageArgs,
    @Arg('patientId', () => ID, { nullable: true, description: 'Only events about this patient.' }) patientId: string | null,
    @Arg('from', () => String, { nullable: true, description: 'Only events at or after this instant (ISO-8601).' }) from: string | null,
    @Arg('to', () => String, { nullable: true, description: 'Only events before this instant (ISO-8601).' }) to: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AuditEventConnection> {
    const { first, after } = pageRequest(page, 2);
    const result = await ctx.services.audit.list(ctx.actor.practiceId, { first, after, patientId, from: instantArg(from, 'from'), to: instantArg(to, 'to') });
    return connection(result.rows, result.hasNextPage, Boolean(after), (e) => [e.occurredAt, e.id]);
  }
}
