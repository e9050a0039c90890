import type { Actor } from '../auth/actor';
import type { Services } from '../services';
import type { AuditEntry } from '../audit/audit.service';
import { Loaders, createLoaders } from './loaders';
import { ExecutionBudget, createExecutionBudget } from './execution-budget';

/** What every resolver gets: the verified caller, the request id, the services, and per-request loaders. */
export interface RequestContext {
  actor: Actor;
  /** Made by the server for every request; the audit trail and the log line carry it. */
  requestId: string;
  /** The client's own `x-request-id`, when it sent a usable one: kept beside ours, never instead of it. */
  clientRequestId: string | null;
  transport: 'http' | 'ws';
  services: Services;
  loaders: Loaders;
  /** What this request's queries read: written to the audit trail when the request ends. */
  reads: AuditEntry[];
  /** What the operation may still resolve, and whether its client is still there. */
  budget: ExecutionBudget;
}

export interface RequestOrigin {
  requestId: string;
  clientRequestId?: string | null;
  transport: RequestContext['transport'];
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export function createRequestContext(services: Services, actor: Actor, origin: RequestOrigin): RequestContext {
  // Made on first use: a subscription's context lives as long as the subscription and rarely needs loaders.
  let loaders: Loaders | null = null;
  return {
    actor,
    requestId: origin.requestId,
    clientRequestId: origin.clientRequestId ?? null,
    transport: origin.transport,
    services,
    reads: [],
    budget: createExecutionBudget(origin.signal),
    get loaders() {
      return (loaders ??= createLoaders(services.reader, actor.practiceId));
    },
    set loaders(fresh: Loaders) {
      loaders = fresh;
    },
  };
}

/** After a mutation commits, what this request read before is stale: start over with empty loaders. */
export function refreshLoaders(ctx: RequestContext): Loaders {
  ctx.loaders = createLoaders(ctx.services.reader, ctx.actor.practiceId);
  return ctx.loaders;
}
