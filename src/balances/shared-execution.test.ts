import { parse } from 'graphql';
import { buildAppSchema } from '../schema';
import { canonicalJson, frameFor, groupKey, isShareableSelection, ExecutionGroups } from './shared-execution';

describe('shared execution (issue 13)', () => {
  test('variables in any key order share a key; practice, role, variables, operation name and document each split groups', () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x', u: undefined })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
    const base = { query: 'subscription { practiceBalanceChanged { version } }', operationName: null, variables: { a: 1, b: 2 }, practiceId: 'p1', role: 'VIEWER' as const };
    expect(groupKey({ ...base, variables: { b: 2, a: 1 } })).toBe(groupKey(base));
    for (const change of [{ practiceId: 'p2' }, { role: 'BILLING' as const }, { variables: { a: 1, b: 3 } }, { operationName: 'X' }, { query: `${base.query} ` }]) {
      expect(groupKey({ ...base, ...change })).not.toBe(groupKey(base));
    }
  });

  test('a prepared frame is graphql-ws next message text, with each id spliced in (and reused when the id repeats)', () => {
    const payload = { data: { practiceBalanceChanged: { version: 3 } } };
    const prepared = { codes: [], tail: Buffer.from(`,"type":"next","payload":${JSON.stringify(payload)}}`), lastId: null, lastFrame: null };
    for (const id of ['1', 'a"b', 'é\u2028', '1']) expect(JSON.parse(String(frameFor(prepared, id)))).toEqual({ id, type: 'next', payload });
    const again = frameFor(prepared, '1');
    expect(frameFor(prepared, '1')).toBe(again);
  });

  test('only selections of PatientBalance are shared; a group lives while it has members', async () => {
    const schema = await buildAppSchema();
    expect(isShareableSelection(schema, parse('subscription($id: ID!) { patientBalanceChanged(patientId: $id) { ...F id __typename v: version @include(if: true) } } fragment F on PatientBalance { outstandingCents }'))).toBe(true);
    expect(isShareableSelection(schema, parse('subscription { practiceBalanceChanged { version @deprecated } }'))).toBe(false);
    expect(isShareableSelection(schema, parse('query { writeOffReasons { code } }'))).toBe(false);
    const groups = new ExecutionGroups();
    const create = () => ({ schema, document: parse('subscription { practiceBalanceChanged { version } }'), operationName: null, variableValues: {}, contextValue: {}, formatErrors: () => [] });
    const a = groups.join('k', create);
    expect(groups.join('k', create)).toBe(a);
    groups.leave(a);
    expect(groups.size).toBe(1);
    groups.leave(a);
    expect(groups.size).toBe(0);
  });
});
