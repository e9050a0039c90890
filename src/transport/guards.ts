import { DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, Kind, OperationDefinitionNode, SelectionSetNode, valueFromASTUntyped } from 'graphql';
import { patientNamedBy } from '../ledger-store/locate';
import type { Actor } from '../auth/actor';
import { operationAllowed } from '../auth/roles';
import type { Config } from '../config';
import type { RequestContext } from '../graphql/context';
import { forbidden } from '../graphql/errors';
import { OpenCounter, RateLimiter } from './rate-limit';

/**
 * The guards both transports apply to every operation, written once: per-caller limits, and the decision whether an
 * operation may run at all, taken before any of it executes.
 */
export interface CallerLimits {
  mutations: RateLimiter;
  queries: RateLimiter;
  subscriptions: RateLimiter;
  /** WebSocket connections open per caller. */
  connections: OpenCounter;
  subscriptionsPerConnection: number;
}

export function createCallerLimits(limits: Config['callerLimits']): CallerLimits {
  return {
    mutations: new RateLimiter(limits.mutationsPerSecond, 'changes'),
    queries: new RateLimiter(limits.queriesPerSecond, 'queries'),
    subscriptions: new RateLimiter(limits.subscriptionsPerSecond, 'subscriptions started'),
    connections: new OpenCounter(limits.connections),
    subscriptionsPerConnection: limits.subscriptionsPerConnection,
  };
}

/**
 * A refusal for going too fast is answered no sooner than this (or the caller's retry-after, if longer, up to
 * MAX_REFUSAL_DELAY_MS): a client that retries at once would otherwise turn cheap refusals into a flood of its own.
 * Waiting costs the server a timer, not CPU.
 */
export const MIN_REFUSAL_DELAY_MS = 250;
export const MAX_REFUSAL_DELAY_MS = 2_000;

async function take(limiter: RateLimiter, caller: string, count = 1): Promise<void> {
  try {
    limiter.take(caller, count);
  } catch (error) {
    const retryAfter = Number((error as GraphQLError).extensions?.retryAfterMs ?? 0);
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(retryAfter, MIN_REFUSAL_DELAY_MS), MAX_REFUSAL_DELAY_MS)));
    throw error;
  }
}

/** Limits are per caller: one staff user of one practice. */
export function callerKey(actor: Actor): string {
  return `${actor.practiceId}\n${actor.userId}`;
}

/** The root fields an operation selects (`Mutation.writeOff`, ...), through inline fragments and named ones. */
export function rootFieldsOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): { name: string; node: FieldNode }[] {
  const rootType = schema.getRootType(operation.operation);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const fields: { name: string; node: FieldNode }[] = [];
  const spread = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) fields.push({ name: `${rootType?.name}.${selection.name.value}`, node: selection });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!spread.has(selection.name.value)) {
        spread.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return fields;
}

/**
 * Decides whether a validated operation may run, before any of it executes, so that a response never hides a commit:
 * a mutation document is admitted whole or refused whole. Its rate-limit tokens are taken all at once (one per
 * mutation field), then every field's role is checked; a field the role may not use is recorded in the audit trail
 * and refuses the whole document with FORBIDDEN. The limit comes first, so a flood of forbidden attempts cannot
 * become a flood of audit writes, and a refusal for going too fast is answered after a short delay. Queries and subscriptions take one token of their own limit per operation; a query
 * field the role may not read is refused on its own (FORBIDDEN at that field: there is nothing to hide).
 */
export async function admitOperation(
  ctx: RequestContext,
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  limits: CallerLimits,
): Promise<void> {
  const caller = callerKey(ctx.actor);
  if (operation.operation === 'query') return take(limits.queries, caller);
  if (operation.operation === 'subscription') return take(limits.subscriptions, caller);
  const fields = rootFieldsOf(schema, document, operation);
  await take(limits.mutations, caller, Math.max(fields.length, 1));
  const refused = fields.filter((field) => !operationAllowed(ctx.actor.role, field.name));
  if (refused.length === 0) return;
  for (const field of refused) {
    // The attempt goes into the trail of the patient its input names, when that is one of the caller's practice.
    const input = field.node.arguments?.find((a) => a.name.value === 'input');
    const named = input ? await patientNamedBy(ctx.services.db, ctx.actor.practiceId, valueFromASTUntyped(input.value, variables ?? {})) : null;
    await ctx.services.audit.record(ctx, {
      operation: field.node.name.value,
      outcome: 'REFUSED',
      code: 'FORBIDDEN',
      patientId: named?.patientId ?? null,
      entityIds: named ? [named.rowId] : [],
    });
  }
  throw forbidden();
}

/** Hands what the request read to the audit trail (batched and written shortly after: reads never wait for it). */
export function auditReads(ctx: RequestContext): void {
  if (ctx.reads.length === 0) return;
  const reads = ctx.reads;
  ctx.reads = [];
  ctx.services.audit.enqueueReads(ctx, reads);
}
