import type { Actor } from '../auth/actor';
import type { Services } from '../services';
import type { AuditEntry } from '../audit/audit.service';
import { Loaders, createLoaders } from './loaders';

/** What every resolver gets: the verified caller, the request id, the services, and per-request loaders. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  transport: 'http' | 'ws';
  services: Services;
  loaders: Loaders;
  /** What this request's queries read: written to the audit trail when the request ends. */
  reads: AuditEntry[];
}

export function createRequestContext(services: Services, actor: Actor, requestId: string, transport: RequestContext['transport']): RequestContext {
  // Made on first use: a subscription's context lives as long as the subscription and rarely needs loaders.
  let loaders: Loaders | null = null;
  return {
    actor,
    requestId,
    transport,
    services,
    reads: [],
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
