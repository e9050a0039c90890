import { Extensions, Field, ID, InputType, ObjectType } from 'type-graphql';
import { PageInfo, UserError } from '../graphql/common.types';
import { PatientView } from '../read-model/views';
import { MAX_PAGE_SIZE, MAX_USER_ERRORS } from '../ledger';

@ObjectType({ simpleResolvers: true, description: 'A patient of the practice. Fields `balance`, `charges` and `payments` are resolved on demand.' })
export class Patient {
  @Field(() => ID, { description: 'Opaque id.' })
  id: string;

  @Field({ description: 'Given name.' })
  firstName: string;

  @Field({ description: 'Family name.' })
  lastName: string;

  @Field(() => String, { nullable: true, description: 'Date of birth, YYYY-MM-DD.' })
  dateOfBirth: string | null;

  @Field(() => String, { nullable: true, description: "Medical record number in the practice's EHR." })
  mrn: string | null;

  @Field({ description: 'When the patient was created (ISO-8601 UTC).' })
  createdAt: string;
}

@ObjectType({ simpleResolvers: true, description: 'A patient in a list.' })
export class PatientEdge {
  @Field({ description: 'Pass as `after` to continue after this patient.' })
  cursor: string;

  @Field(() => Patient, { description: 'The patient.' })
  node: PatientView;
}

@ObjectType({ simpleResolvers: true, description: 'A page of patients, by last name then first name.' })
export class PatientConnection {
  @Field(() => [PatientEdge], { description: `The patients on this page: \`first\` of them, at most ${MAX_PAGE_SIZE}.` })
  @Extensions({ maxItems: MAX_PAGE_SIZE })
  edges: PatientEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the list.' })
  pageInfo: PageInfo;
}

@InputType({ description: 'A new patient.' })
export class CreatePatientInput {
  @Field({ description: 'Given name (1 to 255 characters).' })
  firstName: string;

  @Field({ description: 'Family name (1 to 255 characters).' })
  lastName: string;

  @Field(() => String, { nullable: true, description: 'Date of birth, YYYY-MM-DD.' })
  dateOfBirth?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Medical record number in the practice's EHR (up to 64 characters); no two patients of a practice share one (DUPLICATE_MRN).",
  })
  mrn?: string | null;

  @Field(() => String, { nullable: true, description: 'Makes retries safe: the same key and input return the first result and change nothing.' })
  idempotencyKey?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Result of createPatient.' })
export class CreatePatientPayload {
  @Field(() => Patient, { nullable: true, description: 'The new patient; null when refused.' })
  patient: PatientView | null;

  @Field(() => [UserError], { description: `Why it was refused; empty on success. At most ${MAX_USER_ERRORS}.` })
  @Extensions({ maxItems: MAX_USER_ERRORS })
  userErrors: UserError[];
}
