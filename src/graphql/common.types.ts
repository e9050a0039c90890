import { ArgsType, Extensions, Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  PaymentMethods,
  PaymentPurposes,
  RefundMethods,
  ResponsibilityKinds,
  ResponsibilityOrigins,
  ResponsibilityStatuses,
  WriteOffReasons,
  WRITE_OFF_REASONS,
  MAX_FIELD_PATH_SEGMENTS,
  MAX_PAGE_SIZE,
  Refusal,
  RefusalCode,
} from '../ledger';
import { decodeCursor, encodeCursor } from '../read-model/ledger-reader';
import { TimelineKinds } from '../read-model/views';
import { badUserInput } from './errors';
import { RefusalCodeEnum } from './codes.types';

/** A GraphQL enum object (`{ VALUE: 'VALUE' }`) made from a list of values defined below the API. */
export function enumOf<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

export const ResponsibilityKindEnum = enumOf(ResponsibilityKinds);
export const ResponsibilityOriginEnum = enumOf(ResponsibilityOrigins);
export const ResponsibilityStatusEnum = enumOf(ResponsibilityStatuses);
export const PaymentMethodEnum = enumOf(PaymentMethods);
export const PaymentPurposeEnum = enumOf(PaymentPurposes);
export const RefundMethodEnum = enumOf(RefundMethods);
export const WriteOffReasonEnum = enumOf(WriteOffReasons);
export const TimelineKindEnum = enumOf(TimelineKinds);

registerEnumType(ResponsibilityKindEnum, {
  name: 'ResponsibilityKind',
  description: 'What a PR line is for.',
  valuesConfig: {
    COPAY: { description: 'A fixed copay.' },
    COINSURANCE: { description: "The patient's percentage share after the deductible." },
    DEDUCTIBLE: { description: 'Applied to the deductible.' },
    NON_COVERED: { description: 'A service the plan does not cover (CARC 96 or 204).' },
    OTHER: { description: 'Any other patient responsibility from a remittance.' },
    SELF_PAY: { description: 'What a self-pay patient owes.' },
    CUSTOM: { description: 'A custom charge or line entered by staff.' },
  },
});
registerEnumType(ResponsibilityOriginEnum, {
  name: 'ResponsibilityOrigin',
  description: 'Where a PR line came from. Only REMITTANCE lines cannot be cancelled.',
  valuesConfig: {
    REMITTANCE: { description: "From an insurer's adjudication (remittance)." },
    ESTIMATED: { description: 'A placeholder created when a copay, coinsurance or deductible was collected up front.' },
    SELF_PAY: { description: 'Created by a self-pay payment.' },
    STAFF: { description: 'Entered by staff with a charge.' },
  },
});
registerEnumType(ResponsibilityStatusEnum, {
  name: 'ResponsibilityStatus',
  description: 'Whether a PR line counts.',
  valuesConfig: {
    ACTIVE: { description: 'Counts toward the balance.' },
    CANCELLED: { description: 'Should never have existed: out of every balance, accepts nothing more.' },
    REVERSED: { description: 'Its remittance was reversed by the insurer, or replaced by a corrected one: out of every balance, accepts nothing more.' },
  },
});
registerEnumType(PaymentMethodEnum, {
  name: 'PaymentMethod',
  description: 'How the patient paid.',
  valuesConfig: { CASH: { description: 'Cash.' }, CHECK: { description: 'Check.' }, CARD: { description: 'Credit or debit card.' }, OTHER: { description: 'Any other method.' } },
});
registerEnumType(PaymentPurposeEnum, {
  name: 'PaymentPurpose',
  description: 'What a payment is for.',
  valuesConfig: {
    BALANCE: { description: 'Toward existing PR lines (allocations); anything not allocated becomes credit.' },
    COPAY: { description: 'A copay collected up front: creates an ESTIMATED COPAY line paid by it. Needs chargeId.' },
    COINSURANCE: { description: 'Coinsurance collected up front: creates an ESTIMATED line paid by it. Needs chargeId.' },
    DEDUCTIBLE: { description: 'Deductible collected up front: creates an ESTIMATED line paid by it. Needs chargeId.' },
    SELF_PAY: { description: 'A self-pay visit: creates a SELF_PAY line paid by it. Needs chargeId.' },
  },
});
registerEnumType(RefundMethodEnum, {
  name: 'RefundMethod',
  description: 'How a refund is made.',
  valuesConfig: {
    ACCOUNT_CREDIT: { description: "Keep the money as the patient's credit: takes it off PR lines (newest first); nothing leaves the practice." },
    ORIGINAL_CARD: { description: 'Back to the card that paid.' },
    EXTERNAL_CASH_OR_CARD: { description: 'Returned outside the system, in cash or to another card.' },
    EXTERNAL_CHECK: { description: 'Returned by check.' },
  },
});
registerEnumType(WriteOffReasonEnum, {
  name: 'WriteOffReason',
  description: 'Why PR is written off. The list with labels is served by `writeOffReasons`; OTHER needs a custom reason.',
  valuesConfig: Object.fromEntries(WRITE_OFF_REASONS.map((r) => [r.code, { description: r.label + '.' }])),
});

registerEnumType(TimelineKindEnum, {
  name: 'TimelineKind',
  description: "What happened in a charge's history.",
  valuesConfig: {
    CHARGE_CREATED: { description: 'The charge was entered (amount: billed).' },
    PR_ADDED: { description: 'A PR line was created (reason: its origin).' },
    REMITTANCE: { description: "An insurer's remittance was recorded (reason: its reference)." },
    PAYMENT: { description: 'A payment was put on a line (reason: the method).' },
    PAYMENT_MOVED: { description: 'Payment money moved onto a line from a superseded estimate.' },
    REFUND: { description: 'Money was taken off a line and returned to the patient.' },
    MOVED_TO_CREDIT: { description: "Money was taken off a line into the patient's credit (ACCOUNT_CREDIT refund)." },
    PAYMENT_RELEASED: { description: 'Money was released from a cancelled, superseded or reversed line to credit.' },
    WRITE_OFF: { description: 'Part of a line was written off.' },
    WRITE_OFF_REMOVAL: { description: 'A write-off was (partly) removed.' },
    CANCELLATION: { description: 'A line was cancelled.' },
    PAYMENT_VOIDED: { description: 'A voided payment was taken off a line, which reopened.' },
    PR_REVERSED: { description: 'A line was reversed with its remittance (reversed by the insurer, or replaced by a corrected one).' },
    CREDIT_APPLIED: { description: "The patient's credit was put on a line (applyCredit, or an applied-credit entry of a batch)." },
    CREDIT_RETURNED: { description: 'Applied credit was taken back off a line into credit (its batch was negated).' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'A business-rule refusal: nothing was changed. Switch on `code`; show `message` to staff.' })
export class UserError {
  @Field(() => RefusalCodeEnum, { description: 'Stable machine-readable code, e.g. WRITE_OFF_EXCEEDS_OPEN.' })
  code: RefusalCode;

  @Field({ description: 'What happened and what to do, in words staff can act on.' })
  message: string;

  @Field(() => [String], {
    nullable: true,
    description: `Path to the input field at fault, e.g. ["input", "amountCents"]. At most ${MAX_FIELD_PATH_SEGMENTS} segments.`,
  })
  @Extensions({ maxItems: MAX_FIELD_PATH_SEGMENTS })
  field?: string[] | null;
}

export function userErrors(refusal: Refusal): UserError[] {
  return [{ code: refusal.code, message: refusal.message, field: refusal.field ? [...refusal.field] : null }];
}

@ObjectType({ simpleResolvers: true, description: 'Whether an action is possible now, and if not, the tooltip saying why.' })
export class Availability {
  @Field({ description: 'True when the action would be accepted now.' })
  allowed: boolean;

  @Field(() => RefusalCodeEnum, { nullable: true, description: 'Why not, as a stable code (same as the userError the action would return).' })
  code: RefusalCode | null;

  @Field(() => String, { nullable: true, description: 'Why not, as tooltip text for a disabled button.' })
  message: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Relay page information.' })
export class PageInfo {
  @Field({ description: 'More items follow this page.' })
  hasNextPage: boolean;

  @Field({ description: 'Items precede this page (true when `after` was given).' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item on this page.' })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item on this page: pass it as `after` for the next page.' })
  endCursor: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'How many items (1 to 100, default 20).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Return items after this cursor (`pageInfo.endCursor` of the previous page).' })
  after?: string | null;
}

/** Validates Relay arguments: `first` in 1..100, `after` a cursor of this list. */
export function pageRequest(args: PageArgs, cursorLength: number): { first: number; after: string[] | null } {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw badUserInput(`first must be from 1 to ${MAX_PAGE_SIZE}.`, 'first');
  if (!args.after) return { first, after: null };
  const after = decodeCursor(args.after, cursorLength);
  if (!after) throw badUserInput('after is not a cursor from this list.', 'after');
  return { first, after };
}

/** Builds `{ edges, pageInfo }` from a page of rows and the values each row's cursor is made of. */
export function connection<T>(rows: T[], hasNextPage: boolean, hadAfter: boolean, cursorOf: (row: T) => unknown[]) {
  const edges = rows.map((node) => ({ node, cursor: encodeCursor(cursorOf(node)) }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: hadAfter,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
