/** The committed SDL is what the code builds, and every example operation is valid against it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphQLObjectType, buildSchema, isObjectType, lexicographicSortSchema, parse, printSchema, validate } from 'graphql';
import { schema } from '../src/graphql/schema';
import { missingDescriptions } from '../src/graphql/describe-check';
import { CURSOR_CONNECTIONS } from '../src/graphql/prevalidate';

const root = path.resolve(__dirname, '..');

test('schema/schema.graphql matches the schema the code builds (run `npm run schema` after changing types)', () => {
  const committed = buildSchema(fs.readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
  expect(printSchema(lexicographicSortSchema(committed))).toBe(printSchema(lexicographicSortSchema(schema())));
});

const ops = fs.readdirSync(path.join(root, 'schema/operations')).filter((f) => f.endsWith('.graphql'));

test('there are example operations', () => {
  expect(ops.length).toBeGreaterThanOrEqual(8);
});

test.each(ops)('schema/operations/%s is valid', (file) => {
  const doc = parse(fs.readFileSync(path.join(root, 'schema/operations', file), 'utf8'));
  expect(validate(schema(), doc)).toEqual([]);
});

describe('descriptions', () => {
  test('every type, field, argument and enum value of the schema is described', () => {
    expect(missingDescriptions(schema())).toEqual([]);
  });

  test('the check names each undescribed part', () => {
    const sdl = `
      "Root" type Query { "described" a(x: Int): E, b: Int }
      enum E { "described" ONE TWO }
      input I { c: Int }
      type T { d: Int }
    `;
    const s = buildSchema(`${sdl}\nextend type Query { t(i: I): T }`);
    expect(missingDescriptions(s).sort()).toEqual(['E', 'E.TWO', 'I', 'I.c', 'Query.a(x:)', 'Query.b', 'Query.t', 'Query.t(i:)', 'T', 'T.d'].sort());
  });
});

test('every field with an `after` names the connections whose cursors it takes', () => {
  const paged = Object.values(schema().getTypeMap())
    .filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'))
    .flatMap((t) => Object.values(t.getFields()).filter((f) => f.args.some((a) => a.name === 'after')).map((f) => `${t.name}.${f.name}`));
  expect(paged.length).toBeGreaterThan(5);
  expect(paged.sort()).toEqual(Object.keys(CURSOR_CONNECTIONS).sort());
});
