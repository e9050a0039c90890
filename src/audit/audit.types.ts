import { Extensions, Field, ID, ObjectType } from 'type-graphql';
import { PageInfo } from '../graphql/common.types';
import { AuditCodeEnum, AuditOutcomeEnum } from '../graphql/codes.types';
import { MAX_AUDIT_ENTITY_IDS, MAX_PAGE_SIZE } from '../ledger';

@ObjectType({ simpleResolvers: true, description: 'Who acted.' })
export class Actor {
  @Field(() => ID, { description: 'Staff user id (the token subject).' })
  id: string;

  @Field({ description: 'Their role at the time.' })
  role: string;
}

@ObjectType({ simpleResolvers: true, description: 'One audited action: a mutation attempt (accepted, refused or failed) or a read of patient data. Append-only.' })
export class AuditEvent {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field({ description: 'When (ISO-8601 UTC).' })
  occurredAt: string;

  @Field({ description: 'The GraphQL operation field, e.g. writeOff or patient.' })
  operation: string;

  @Field(() => AuditOutcomeEnum, { description: 'How it ended.' })
  outcome: string;

  @Field(() => AuditCodeEnum, { nullable: true, description: 'The refusal code, for REFUSED; IDEMPOTENT_REPLAY for a replayed mutation.' })
  code: string | null;

  @Field(() => ID, { nullable: true, description: 'The patient concerned, when there is one.' })
  patientId: string | null;

  @Field(() => [ID], {
    description: `Ids of the rows touched or read: those one mutation names or returns, or what one query field returned (one object, or one page). At most ${MAX_AUDIT_ENTITY_IDS}.`,
  })
  @Extensions({ maxItems: MAX_AUDIT_ENTITY_IDS })
  entityIds: string[];

  @Field(() => Actor, { description: 'Who.' })
  actor: Actor;

  @Field({ description: 'The request id, made by the server for every request (also in the server log line of that request).' })
  requestId: string;

  @Field(() => String, {
    nullable: true,
    description: "The `x-request-id` the client sent with the request, if any: the client's own label, kept beside `requestId`, never instead of it.",
  })
  clientRequestId: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'An audit event in a list.' })
export class AuditEventEdge {
  @Field({ description: 'Pass as `after` to continue after this event.' })
  cursor: string;

  @Field(() => AuditEvent, { description: 'The event.' })
  node: AuditEvent;
}

@ObjectType({ simpleResolvers: true, description: 'A page of audit events, newest first.' })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge], { description: `The events on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: AuditEventEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}
