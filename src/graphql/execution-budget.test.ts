import { buildSchema, execute, parse } from 'graphql';
import { MAX_LIST_ITEMS_PER_OPERATION, createExecutionBudget, guardListFields } from './execution-budget';

/** A schema whose lists are as long as the query says, so the backstop can be reached whatever the estimate thinks. */
function schemaWithLists() {
  const schema = buildSchema(`
    type Item { id: ID!  children(count: Int!): [Item!]! }
    type Query { items(count: Int!): [Item!]!  one: Item! }
  `);
  const listOf = (count: number) => Array.from({ length: count }, (_, i) => ({ id: String(i) }));
  schema.getQueryType()!.getFields().items.resolve = (_source, args: { count: number }) => listOf(args.count);
  schema.getQueryType()!.getFields().one.resolve = () => ({ id: 'one' });
  (schema.getType('Item') as import('graphql').GraphQLObjectType).getFields().children.resolve = (_source, args: { count: number }) => listOf(args.count);
  return guardListFields(schema);
}

async function run(query: string, signal = new AbortController().signal) {
  const budget = createExecutionBudget(signal);
  const result = await execute({ schema: schemaWithLists(), document: parse(query), contextValue: { budget } });
  return { result, budget };
}

describe('execution budget', () => {
  test('counts every list item an operation resolves, nested lists included', async () => {
    const { result, budget } = await run('{ items(count: 3) { id children(count: 4) { id } } }');
    expect(result.errors).toBeUndefined();
    expect(budget.listItems).toBe(3 + 3 * 4);
  });

  test(`stops an operation that resolves more than ${MAX_LIST_ITEMS_PER_OPERATION} list items, whatever was estimated`, async () => {
    // 400 × 400 × 400 would be 64 million items; the lists of the second level already pass the budget, so none of
    // the third level is resolved.
    const { result, budget } = await run('{ items(count: 400) { children(count: 400) { children(count: 400) { id } } } }');
    expect(budget.listItems).toBeGreaterThan(MAX_LIST_ITEMS_PER_OPERATION);
    expect(budget.listItems).toBeLessThanOrEqual(400 + 400 * 400);
    expect(result.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(result.errors?.[0].message).toMatch(/grew past 100000 list items/);
  });

  test('an operation at the budget answers in full', async () => {
    const { result } = await run(`{ items(count: ${MAX_LIST_ITEMS_PER_OPERATION}) { id } }`);
    expect(result.errors).toBeUndefined();
    expect((result.data as { items: unknown[] }).items).toHaveLength(MAX_LIST_ITEMS_PER_OPERATION);
  });

  test('work for a client that went away stops at its next list', async () => {
    const gone = new AbortController();
    gone.abort();
    const { result, budget } = await run('{ one { id }  items(count: 5) { id } }', gone.signal);
    expect(budget.listItems).toBe(0);
    expect(result.errors?.map((e) => e.message)).toEqual(['The client went away before the answer was ready.']);
    expect(result.data).toBeNull();
  });

  test('scalar and single-object fields keep their own resolvers (only lists are wrapped)', () => {
    const schema = schemaWithLists();
    const one = schema.getQueryType()!.getFields().one.resolve!;
    expect(one({}, {}, {}, undefined as never)).toEqual({ id: 'one' });
  });
});
