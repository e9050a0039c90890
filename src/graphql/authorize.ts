import { GraphQLSchema, defaultFieldResolver } from 'graphql';
import { operationAllowed } from '../auth/roles';
import type { AuditEntry } from '../audit/audit.service';
import type { RequestContext } from './context';
import { forbidden } from './errors';

/** Refuses with FORBIDDEN when the caller's role may not use this root field (docs/design.md §4). */
export function requireOperation(ctx: RequestContext, operation: string): void {
  if (!operationAllowed(ctx.actor.role, operation)) throw forbidden();
}

type Row = { id?: unknown; patientId?: unknown } | null | undefined;

/**
 * The patient a root field's row belongs to: patients are their own; charges, lines and payments name theirs; audit
 * events are not patient data, so reading the trail does not enter the trail of the patients it lists.
 */
const PATIENT_OF_ROW: Record<string, (row: Row) => unknown> = {
  patient: (row) => row?.id,
  patients: (row) => row?.id,
  auditTrail: () => null,
};
const patientNamedByRow = (row: Row) => row?.patientId;

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * What a query read, for the audit trail: the rows returned and every patient they belong to, so that a list read
 * is found in each returned patient's trail. `patientId` is set when they all belong to one patient.
 */
export function readAuditEntry(operation: string, result: unknown): AuditEntry {
  const connection = result as { edges?: { node: Row }[] } | null;
  const rows: Row[] = connection && Array.isArray(connection.edges) ? connection.edges.map((e) => e.node) : Array.isArray(result) ? [] : [result as Row];
  const ids = rows.map((r) => r?.id).filter(isString);
  const patientIds = [...new Set(rows.map(PATIENT_OF_ROW[operation] ?? patientNamedByRow).filter(isString))];
  return { operation, outcome: 'READ', patientId: patientIds.length === 1 ? patientIds[0] : null, patientIds, entityIds: ids };
}

/** Root fields that read no patient data and need no audit event. */
const UNAUDITED_QUERIES = new Set(['writeOffReasons']);

/**
 * Guards every query and mutation root field, on both transports: the role check, and noting what each query read so
 * the request's audit events can be written when it ends. Rate limits and the audit of a forbidden mutation are
 * decided for the whole document before it executes (transport/guards.ts); the check here is the last word for
 * query fields, whose refusal is that field's alone.
 * Wrapping only the root fields keeps nested fields free of any per-field cost. (Subscriptions check their role in
 * their own `subscribe`, which runs once per subscription.)
 */
export function guardRootFields(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const operation = `${type.name}.${field.name}`;
      const audited = type.name === 'Query' && !UNAUDITED_QUERIES.has(field.name);
      field.resolve = async (source, args, context: RequestContext, info) => {
        if (!operationAllowed(context.actor.role, operation)) throw forbidden();
        const result = await resolve(source, args, context, info);
        if (audited) context.reads.push(readAuditEntry(field.name, result));
        return result;
      };
    }
  }
  return schema;
}
