import { GraphQLSchema, defaultFieldResolver } from 'graphql';
import { operationAllowed } from '../auth/roles';
import type { AuditEntry } from '../audit/audit.service';
import type { RequestContext } from './context';
import { forbidden } from './errors';
import type { MutationRateLimiter } from './rate-limit';

/** Refuses with FORBIDDEN when the caller's role may not use this root field (DESIGN §4). */
export function requireOperation(ctx: RequestContext, operation: string): void {
  if (!operationAllowed(ctx.actor.role, operation)) throw forbidden();
}

type Row = { id?: unknown; patientId?: unknown } | null | undefined;

/** What a query read, for the audit trail: the rows returned and, when there is one, the patient they belong to. */
export function readAuditEntry(operation: string, result: unknown): AuditEntry {
  const connection = result as { edges?: { node: Row }[] } | null;
  const rows: Row[] = connection && Array.isArray(connection.edges) ? connection.edges.map((e) => e.node) : Array.isArray(result) ? [] : [result as Row];
  const ids = rows.map((r) => r?.id).filter((id): id is string => typeof id === 'string');
  const single = rows.length === 1 ? rows[0] : null;
  const patientId = operation === 'patient' ? single?.id : single?.patientId;
  return { operation, outcome: 'READ', patientId: typeof patientId === 'string' ? patientId : null, entityIds: ids };
}

/** Root fields that read no patient data and need no audit event. */
const UNAUDITED_QUERIES = new Set(['writeOffReasons']);

/**
 * Guards every query and mutation root field, on both transports: the role check, the per-caller mutation rate limit,
 * an audit event for each mutation attempt the role forbids, and noting what each query read so the request's audit
 * events are written before its response leaves.
 * Wrapping only the root fields keeps nested fields free of any per-field cost. (Subscriptions check their role in
 * their own `subscribe`, which runs once per subscription.)
 */
export function guardRootFields(schema: GraphQLSchema, limiter: MutationRateLimiter): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const operation = `${type.name}.${field.name}`;
      const audited = type.name === 'Query' && !UNAUDITED_QUERIES.has(field.name);
      const mutation = type.name === 'Mutation';
      field.resolve = async (source, args, context: RequestContext, info) => {
        // The limit comes first, so a flood of forbidden attempts cannot become a flood of audit writes.
        if (mutation) limiter.take(`${context.actor.practiceId}\n${context.actor.userId}`);
        if (!operationAllowed(context.actor.role, operation)) {
          if (mutation) await context.services.audit.record(context, { operation: field.name, outcome: 'REFUSED', code: 'FORBIDDEN' });
          throw forbidden();
        }
        const result = await resolve(source, args, context, info);
        if (audited) context.reads.push(readAuditEntry(field.name, result));
        return result;
      };
    }
  }
  return schema;
}
