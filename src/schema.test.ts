import fs from 'node:fs';
import path from 'node:path';
import { GraphQLObjectType, GraphQLSchema, getNullableType, isInputObjectType, isListType, isObjectType } from 'graphql';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { buildAppSchema, printAppSchema, SCHEMA_FILE } from './schema';
import { OPERATION_PERMISSIONS } from './auth/roles';

const ROOT = path.resolve(__dirname, '..');

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

test('schema/schema.graphql is what the code emits (run `npm run schema` when this fails)', () => {
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(printAppSchema(schema));
});

test('test/__generated__/graphql.ts is what codegen makes of the committed schema and operations', () => {
  const generated = 'test/__generated__/graphql.ts';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codegen-check-'));
  const fresh = path.join(dir, 'graphql.ts');
  const config = fs.readFileSync(path.join(ROOT, 'codegen.yml'), 'utf8').replace(`${generated}:`, `${JSON.stringify(fresh)}:`);
  fs.writeFileSync(path.join(dir, 'codegen.yml'), config);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', path.join(dir, 'codegen.yml')], { cwd: ROOT, stdio: 'pipe' });
  expect(fs.readFileSync(path.join(ROOT, generated), 'utf8')).toBe(fs.readFileSync(fresh, 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('every root field has exactly one permission rule, and no rule names a missing field', () => {
  const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((t): t is GraphQLObjectType => Boolean(t))
    .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`))
    .sort();
  expect(Object.keys(OPERATION_PERMISSIONS).sort()).toEqual(rootFields);
});

test('every type, field, argument and enum value has a description for the frontend team', () => {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)) continue;
    if (!type.description) missing.push(type.name);
    if ('getFields' in type) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    if ('getValues' in type) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
  }
  expect(missing).toEqual([]);
});

test('every list, returned or taken, states its bound: extensions.maxItems, and "at most N" in its description', () => {
  const unbounded: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInputObjectType(type))) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type))) continue;
      const max = field.extensions.maxItems;
      const stated = typeof max === 'number' && Number.isInteger(max) && max > 0 && new RegExp(`at most ${max}\\b`, 'i').test(field.description ?? '');
      if (!stated) unbounded.push(`${type.name}.${field.name}`);
    }
  }
  expect(unbounded).toEqual([]);
});
