import fs from 'node:fs';
import path from 'node:path';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
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

/** The schema, with its root fields guarded and its lists charged to each operation's execution budget. */
export async function buildAppSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [PatientResolver, ChargeResolver, ResponsibilityResolver, WriteOffResolver, PaymentResolver, AllocationResolver, RemittanceResolver, BalanceResolver, AuditResolver],
    pubSub: noTopicPubSub,
    validate: false,
  });
  return guardListFields(guardRootFields(schema));
}

/** The SDL committed as schema/schema.graphql: sorted, so diffs show real changes. */
export function printAppSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
