import fs from 'node:fs';
import path from 'node:path';
import { GraphQLObjectType, GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, PubSub } from 'type-graphql';
import { guardRootFields } from './graphql/authorize';
import { guardListFields } from './graphql/execution-budget';
import { PatientResolver } from './patients/patient.resolver';
import { ChargeResolver } from './charges/charge.resolver';
import { ResponsibilityResolver } from './responsibilities/responsibility.resolver';
import { WriteOffResolver } from './write-offs/write-off.resolver';
import { AllocationResolver, PaymentResolver } from './payments/payment.resolver';
import { RemittanceResolver } from './remittances/remittance.resolver';
import { BalanceResolver } from './balances/balance.resolver';
import { AuditResolver } from './audit/audit.resolver';
import { PostingBatchResolver, PostingEntryResolver } from './posting/posting.resolver';
import { WriteOffRuleResolver } from './write-off-rules/write-off-rule.resolver';
import { EraResolver } from './era/era.resolver';

/** The project root: where package.json is, whether running from src/ (tests) or dist/src/ (built). */
function projectRoot(dir = __dirname): string {
  return fs.existsSync(path.join(dir, 'package.json')) ? dir : projectRoot(path.dirname(dir));
}

export const SCHEMA_FILE = path.join(projectRoot(), 'schema', 'schema.graphql');

/** Subscriptions bring their own `subscribe` (see BalanceSubscriptions); type-graphql still asks for a PubSub. */
const noTopicPubSub: PubSub = {
  publish: () => {
    throw new Error('topic publishing is not used: balances go through the BalanceBus');
  },
  subscribe: () => {
    throw new Error('topic subscriptions are not used: balances go through BalanceSubscriptions');
  },
};

const ROOT_TYPE_DESCRIPTIONS: Record<string, string> = {
  Query:
    "Reads of your practice's ledger: patients and their balances, charges, PR lines, payments, posting batches, the write-off reasons and the audit trail.",
  Mutation:
    'Changes to the ledger. Each takes one `input` and returns a payload with the changed objects and `userErrors`: a refusal ' +
    'is a userError and changes nothing. An optional `idempotencyKey` in the input makes a retry safe.',
  Subscription: "Live balances over WebSocket (graphql-ws): a patient's whole new balance after every committed change, with its `version`.",
};

/**
 * type-graphql builds Query, Mutation and Subscription itself and takes no description for them, so the built schema is
 * rebuilt (graphql-js `toConfig`) with described copies of its root types; every other type is kept as it is.
 */
function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  const described = (type: GraphQLObjectType | null | undefined) => type && new GraphQLObjectType({ ...type.toConfig(), description: ROOT_TYPE_DESCRIPTIONS[type.name] });
  const config = schema.toConfig();
  return new GraphQLSchema({
    ...config,
    query: described(roots[0]),
    mutation: described(roots[1]),
    subscription: described(roots[2]),
    types: config.types.filter((type) => !roots.includes(type as GraphQLObjectType)),
  });
}

/** The schema, with described root types, its root fields guarded and its lists charged to each operation's execution budget. */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [
      PatientResolver,
      ChargeResolver,
      ResponsibilityResolver,
      WriteOffResolver,
      PaymentResolver,
      AllocationResolver,
      RemittanceResolver,
      PostingBatchResolver,
      PostingEntryResolver,
      BalanceResolver,
      AuditResolver,
      WriteOffRuleResolver,
      EraResolver,
    ],
    pubSub: noTopicPubSub,
    validate: false,
  });
  return guardListFields(guardRootFields(describeRootTypes(schema)));
}

/** The SDL committed as schema/schema.graphql: sorted, so diffs show real changes. */
export function printAppSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
