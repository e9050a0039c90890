import fs from 'node:fs';
import path from 'node:path';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, MiddlewareFn, PubSub } from 'type-graphql';
import type { RequestContext } from './graphql/context';
import { requireOperation } from './graphql/authorize';
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

/** DESIGN §4 at every root field, for HTTP and WebSocket alike: a role that may not act gets FORBIDDEN. */
const authorizeRootFields: MiddlewareFn<RequestContext> = ({ info, context }, next) => {
  const parent = info.parentType.name;
  if (parent === 'Query' || parent === 'Mutation' || parent === 'Subscription') requireOperation(context, `${parent}.${info.fieldName}`);
  return next();
};

/** Subscriptions bring their own `subscribe` (see BalanceSubscriptions); type-graphql still asks for a PubSub. */
const noTopicPubSub: PubSub = {
  publish: () => {
    throw new Error('topic publishing is not used: balances go through the BalanceBus');
  },
  subscribe: () => {
    throw new Error('topic subscriptions are not used: balances go through BalanceSubscriptions');
  },
};

export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [PatientResolver, ChargeResolver, ResponsibilityResolver, WriteOffResolver, PaymentResolver, AllocationResolver, RemittanceResolver, BalanceResolver, AuditResolver],
    globalMiddlewares: [authorizeRootFields],
    pubSub: noTopicPubSub,
    validate: false,
  });
}

/** The SDL committed as schema/schema.graphql: sorted, so diffs show real changes. */
export function printAppSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
