import { GraphQLError, GraphQLSchema, defaultFieldResolver, getNullableType, isListType, isObjectType } from 'graphql';

/**
 * The backstop behind the cost estimate: however an operation slipped through validation, it may not resolve more
 * than this many list items in all (a 50-charge patient screen with every line and write-off resolves a few
 * thousand), and it stops at its next list once its client has gone away.
 */
export const MAX_LIST_ITEMS_PER_OPERATION = 100_000;

/** What one operation has spent, and whether anyone still waits for its answer. Lives on the request context. */
export interface ExecutionBudget {
  listItems: number;
  /** Aborted when the HTTP client disconnects or the WebSocket closes. */
  signal: AbortSignal;
}

export function createExecutionBudget(signal: AbortSignal): ExecutionBudget {
  return { listItems: 0, signal };
}

function tooLarge(): GraphQLError {
  return new GraphQLError(`The answer grew past ${MAX_LIST_ITEMS_PER_OPERATION} list items: request smaller pages or fewer nested lists.`, {
    extensions: { code: 'QUERY_TOO_COMPLEX' },
  });
}

function clientGone(): GraphQLError {
  return new GraphQLError('The client went away before the answer was ready.', { extensions: { code: 'BAD_REQUEST' } });
}

/**
 * Wraps the resolver of every list-returning field of the schema's own types (introspection is left alone) so that
 * each list it returns is charged to the operation's budget. Only list fields are wrapped: they are where an answer
 * multiplies, and scalar fields keep their direct resolvers.
 */
export function guardListFields(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type))) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = async (source, args, context: { budget?: ExecutionBudget }, info) => {
        const budget = context.budget;
        if (budget?.signal.aborted) throw clientGone();
        if (budget && budget.listItems > MAX_LIST_ITEMS_PER_OPERATION) throw tooLarge();
        const result: unknown = await resolve(source, args, context, info);
        if (budget && Array.isArray(result)) {
          budget.listItems += result.length;
          if (budget.listItems > MAX_LIST_ITEMS_PER_OPERATION) throw tooLarge();
        }
        return result;
      };
    }
  }
  return schema;
}
