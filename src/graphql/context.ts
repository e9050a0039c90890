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

/** What a WebSocket connection's operations share: the caller, the services, the transport (made once per connection). */
export type ConnectionContext = Pick<RequestContext, 'actor' | 'clientRequestId' | 'transport' | 'services'>;

export function createConnectionContext(services: Services, actor: Actor, transport: RequestContext['transport']): ConnectionContext {
  return { actor, clientRequestId: null, transport, services };
}

/**
 * One operation's context on a connection (issue 13: light subscriptions): its own request id, reads and budget, the
 * connection's caller and services by reference, and loaders made only if the operation needs them. One class, so
 * every operation of every connection has the same small shape.
 */
class OperationContext implements RequestContext {
  readonly actor: Actor;
  readonly clientRequestId: string | null;
  readonly transport: RequestContext['transport'];
  readonly services: Services;
  reads: AuditEntry[] = [];
  private made: Loaders | null = null;
  private spent: ExecutionBudget | null = null;

  constructor(
    connection: ConnectionContext,
    readonly requestId: string,
    /** The connection's signal, or what makes it: made only when an operation first needs it (few do). */
    private readonly signal: AbortSignal | SignalSource,
  ) {
    this.actor = connection.actor;
    this.clientRequestId = connection.clientRequestId;
    this.transport = connection.transport;
    this.services = connection.services;
  }

  get budget(): ExecutionBudget {
    return (this.spent ??= createExecutionBudget(this.signal instanceof AbortSignal ? this.signal : this.signal.signal()));
  }

  get loaders(): Loaders {
    return (this.made ??= createLoaders(this.services.reader, this.actor.practiceId));
  }

  set loaders(fresh: Loaders) {
    this.made = fresh;
  }
}

/** What gives an operation the signal that is aborted when its client goes away. */
export interface SignalSource {
  signal(): AbortSignal;
}

export function createOperationContext(connection: ConnectionContext, requestId: string, signal: AbortSignal | SignalSource): RequestContext {
  return new OperationContext(connection, requestId, signal);
}

/** After a mutation commits, what this request read before is stale: start over with empty loaders. */
export function refreshLoaders(ctx: RequestContext): Loaders {
  ctx.loaders = createLoaders(ctx.services.reader, ctx.actor.practiceId);
  return ctx.loaders;
}
