import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import { RequestContext } from '../graphql/context';
import { PageArgs, connection, pageRequest } from '../graphql/common.types';
import { badUserInput } from '../graphql/errors';
import { AuditEvent, AuditEventConnection } from './audit.types';

/** The trail holds nothing outside these years; a bound beyond them is a typo, not a query. */
const EARLIEST_YEAR = 2000;
const LATEST_YEAR = 2100;
/** Offsets in use run from −12:00 to +14:00. */
const MAX_OFFSET_MINUTES = 14 * 60;

/** YYYY-MM-DD, optionally followed by Thh:mm[:ss[.fraction]] and Z or ±hh:mm (a time always needs its zone). */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2})))?$/;

/**
 * Parsed strictly: `new Date()` reads "0", "March 7" and "+275760-09-13T00:00:00Z" as instants, silently answering
 * for a range nobody asked for.
 */
function parseInstant(value: string): Date | null {
  const match = ISO_INSTANT.exec(value);
  if (!match) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', , sign, offsetHours = '0', offsetMinutes = '0'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  if (y < EARLIEST_YEAR || y > LATEST_YEAR || h > 23 || mi > 59 || s > 59 || Number(offsetMinutes) > 59) return null;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  if (Math.abs(offset) > MAX_OFFSET_MINUTES) return null;
  const wallClock = new Date(Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3))));
  // Date.UTC rolls 2026-02-30 over into March: a date that does not come back unchanged does not exist.
  if (wallClock.getUTCFullYear() !== y || wallClock.getUTCMonth() !== mo - 1 || wallClock.getUTCDate() !== d) return null;
  return new Date(wallClock.getTime() - offset * 60_000);
}

/** An instant argument as ISO-8601 UTC, or BAD_USER_INPUT naming the argument; null stays null. */
export function instantArg(value: string, name: string): string;
export function instantArg(value: string | null, name: string): string | null;
export function instantArg(value: string | null, name: string): string | null {
  if (value === null || value === undefined) return null;
  const instant = parseInstant(value);
  if (!instant) {
    throw badUserInput(
      `${name} must be an ISO-8601 date-time with Z or an offset, such as 2026-11-01T00:00:00Z or 2026-11-01T09:30:00-05:00, ` +
        `or a date such as 2026-11-01 (midnight UTC), in the years ${EARLIEST_YEAR} to ${LATEST_YEAR}.`,
      name,
    );
  }
  return instant.toISOString();
}

const BOUND_FORMAT = `ISO-8601 date-time with Z or an offset (e.g. 2026-11-01T00:00:00Z), or a date YYYY-MM-DD meaning midnight UTC; years ${EARLIEST_YEAR}–${LATEST_YEAR}`;

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: 'The audit trail of your practice, newest first. BILLING_MANAGER and ADMIN only.' })
  async auditTrail(
    @Args() page: PageArgs,
    @Arg('patientId', () => ID, { nullable: true, description: 'Only events about this patient, list reads that returned the patient included.' })
    patientId: string | null,
    @Arg('from', () => String, { nullable: true, description: `Only events at or after this instant: an ${BOUND_FORMAT}.` }) from: string | null,
    @Arg('to', () => String, { nullable: true, description: `Only events before this instant (at or after \`from\`): an ${BOUND_FORMAT}.` }) to: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AuditEventConnection> {
    const { first, after } = pageRequest(page, 2);
    const [since, until] = [instantArg(from, 'from'), instantArg(to, 'to')];
    if (since && until && since > until) {
      throw badUserInput(`from must not be after to, e.g. from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z".`, 'from');
    }
    const result = await ctx.services.audit.list(ctx.actor.practiceId, { first, after, patientId, from: since, to: until });
    return connection(result.rows, result.hasNextPage, Boolean(after), (e) => [e.occurredAt, e.id]);
  }
}
