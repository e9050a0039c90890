import { DocumentNode, ExecutionResult, GraphQLFormattedError, GraphQLSchema, Kind, TypeInfo, execute, getNamedType, visit, visitWithTypeInfo } from 'graphql';
import type { Role } from '../auth/roles';
import type { BalanceView } from '../read-model/views';

/**
 * Shared execution of live balance subscriptions (issue 13; live balances: docs/design.md §3). Subscribers whose operation would
 * produce the same bytes for the same balance — same document text, operation name, variables, practice and role —
 * form one group: each balance is executed through GraphQL once for the group and serialised once, and every
 * subscriber's socket gets the same prepared `next` frame with its own subscription id spliced in.
 *
 * Only what the group shares lives here. Each subscriber keeps its own stream (its own authorisation when it started,
 * its own versions that never go backwards, its own latest-wins queue for a slow socket); the group only turns a
 * balance into frame text, and remembers the newest frame per patient so the same version is never executed twice.
 */

/** The types a shareable selection may reach: nothing below them can depend on who is asking beyond the group key. */
const SHAREABLE_TYPES = new Set(['Subscription', 'PatientBalance']);

/**
 * Whether every field the operation selects is a field of a type whose values are a pure function of the event
 * (PatientBalance's scalars): then the answer is the same for every subscriber of the group. Anything else (a type
 * added later whose fields read the caller, loaders or the audit trail) is executed per subscriber, as before.
 */
export function isShareableSelection(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let shareable = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation !== 'subscription') shareable = false;
      },
      Field() {
        const parent = typeInfo.getParentType();
        const named = typeInfo.getType() ? getNamedType(typeInfo.getType()!) : null;
        if (!parent || !SHAREABLE_TYPES.has(parent.name)) shareable = false;
        // A field's own type must be a scalar or one of the shareable types.
        if (named && 'getFields' in named && !SHAREABLE_TYPES.has(named.name)) shareable = false;
      },
      Directive(node) {
        // @include/@skip depend on variables only (part of the key); any other directive is not ours to reason about.
        if (node.name.value !== 'include' && node.name.value !== 'skip') shareable = false;
      },
    }),
  );
  return shareable && document.definitions.every((d) => d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION);
}

/** Variables in a canonical form (keys sorted at every level), so `{a, b}` and `{b, a}` share a group. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

export interface GroupKeyParts {
  query: string;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
  practiceId: string;
  role: Role;
}

export function groupKey(parts: GroupKeyParts): string {
  return [parts.practiceId, parts.role, parts.operationName ?? '', canonicalJson(parts.variables ?? {}), parts.query].join('\n');
}

/** One balance made ready for every socket of a group: `{"id":` + JSON id + `tail` is graphql-ws's `next` message. */
export interface PreparedFrame {
  /** The error codes the answer carries (masked), for each subscriber's log line. */
  codes: readonly string[];
  /** `,"type":"next","payload":{...}}` as UTF-8: everything after the id, encoded once for the whole group. */
  tail: Buffer;
  /** The last whole frame built, and the id it was built for: reused as is when the next socket's id is the same. */
  lastId: string | null;
  lastFrame: Buffer | null;
}

const FRAME_HEAD = Buffer.from('{"id":');

/**
 * The frame of a prepared balance for one subscription id (graphql-ws: `{"id":…,"type":"next","payload":…}`), as
 * bytes: copying the encoded tail costs a socket less than encoding the whole text again (send it as a text frame).
 */
export function frameFor(prepared: PreparedFrame, id: string): Buffer {
  if (prepared.lastId === id && prepared.lastFrame) return prepared.lastFrame;
  const idJson = JSON.stringify(id);
  const idBytes = Buffer.byteLength(idJson);
  const frame = Buffer.allocUnsafe(FRAME_HEAD.length + idBytes + prepared.tail.length);
  FRAME_HEAD.copy(frame, 0);
  frame.write(idJson, FRAME_HEAD.length);
  prepared.tail.copy(frame, FRAME_HEAD.length + idBytes);
  prepared.lastId = id;
  prepared.lastFrame = frame;
  return frame;
}

export interface GroupExecution {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  variableValues: Record<string, unknown> | null | undefined;
  /** The context the group executes with: the practice and role of the key, nobody's request in particular. */
  contextValue: unknown;
  /** Masks and logs errors, the same way as for a subscriber's own execution. */
  formatErrors(result: ExecutionResult): GraphQLFormattedError[];
}

/** A member waiting for the frame of a balance that is being executed. */
export interface FrameWaiter {
  framed(frame: PreparedFrame): void;
  failed(error: unknown): void;
}

interface Entry {
  version: number;
  /** The frame once built: later members take it at once. */
  ready?: PreparedFrame;
  /** The members waiting while it is built (told together, in one turn, when it is). */
  waiting?: FrameWaiter[];
}

export class ExecutionGroup {
  members = 0;
  /** The newest prepared frame per patient: the same version is executed once for the whole group. */
  private readonly newest = new Map<string, Entry>();
  constructor(
    readonly key: string,
    private readonly execution: GroupExecution,
  ) {}

  /**
   * The frame of this balance if it is built; otherwise undefined, and `waiter` is told when it is. Only the first
   * member to ask for a version executes it; the rest wait with it, or find it built.
   */
  prepare(balance: BalanceView, waiter: FrameWaiter): PreparedFrame | undefined {
    const known = this.newest.get(balance.patientId);
    if (known && known.version === balance.version) {
      if (known.ready) return known.ready;
      known.waiting!.push(waiter);
      return undefined;
    }
    const entry: Entry = { version: balance.version };
    // Only the newest version is remembered: a subscriber that has it never asks for an older one, and one that is
    // still behind (its socket was slow) pays an execution of its own for the older version it asks for.
    if (!known || known.version < balance.version) this.newest.set(balance.patientId, entry);
    const { schema, document, operationName, variableValues, contextValue } = this.execution;
    executions.count++;
    const result = execute({ schema, document, operationName, variableValues, contextValue, rootValue: balance });
    if (!(result instanceof Promise)) return (entry.ready = this.frameOf(result));
    const waiting = (entry.waiting = [waiter]);
    result.then(
      (settled) => {
        const frame = (entry.ready = this.frameOf(settled));
        entry.waiting = undefined;
        for (const member of waiting) member.framed(frame);
      },
      (error) => {
        // Not kept: the next member to ask tries again.
        if (this.newest.get(balance.patientId) === entry) this.newest.delete(balance.patientId);
        for (const member of waiting) member.failed(error);
      },
    );
    return undefined;
  }

  private frameOf(result: ExecutionResult): PreparedFrame {
    const errors = result.errors ? this.execution.formatErrors(result) : undefined;
    const payload = JSON.stringify(errors ? { ...result, errors } : result);
    return {
      codes: errors ? errors.map((error) => String(error.extensions?.code ?? 'ERROR')) : [],
      tail: Buffer.from(`,"type":"next","payload":${payload}}`),
      lastId: null,
      lastFrame: null,
    };
  }
}

/** How many group executions ran in this process (for tests and the benchmark: one per event and group). */
export const executions = { count: 0 };

/** The groups of one server, by key; a group lives while it has members. */
export class ExecutionGroups {
  private readonly groups = new Map<string, ExecutionGroup>();

  get size(): number {
    return this.groups.size;
  }

  join(key: string, create: () => GroupExecution): ExecutionGroup {
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new ExecutionGroup(key, create())));
    group.members++;
    return group;
  }

  leave(group: ExecutionGroup): void {
    if (--group.members > 0) return;
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
