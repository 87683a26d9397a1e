// The API's schema builder (daemon/api/schemas/json-type.ts) is typed with TypeBox's types but builds
// its objects itself, to keep TypeBox's ~200 modules out of the daemon's start. These tests hold it to
// TypeBox: each builder gives the object TypeBox's Type.* gives (Kind marks included), so Static<> of
// a schema is the type of what fastify validates and serializes.
import { Kind, OptionalKind, Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { T } from '../../../daemon/api/schemas/json-type.ts';

/** Own keys, symbols included, recursively (toStrictEqual compares symbol keys too; this says which). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Reflect.ownKeys(v).map((k) => [typeof k === 'symbol' ? `@${k.description}` : k, shape((v as Record<string | symbol, unknown>)[k])]));
}

describe('json-type builds what TypeBox builds', () => {
  it('scalars with options', () => {
    expect(shape(T.String({ maxLength: 4, description: 'd' }))).toEqual(shape(Type.String({ maxLength: 4, description: 'd' })));
    expect(shape(T.Integer({ minimum: 0 }))).toEqual(shape(Type.Integer({ minimum: 0 })));
    expect(shape(T.Number())).toEqual(shape(Type.Number()));
    expect(shape(T.Boolean())).toEqual(shape(Type.Boolean()));
  });

  it('objects: required from the non-optional keys, options kept, Optional marked', () => {
    const ours = T.Object({ a: T.String(), b: T.Optional(T.Integer()) }, { additionalProperties: false, $id: 'X' });
    const theirs = Type.Object({ a: Type.String(), b: Type.Optional(Type.Integer()) }, { additionalProperties: false, $id: 'X' });
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours.required).toEqual(['a']);
    expect((ours.properties.b as unknown as Record<symbol, unknown>)[OptionalKind]).toBe('Optional');
    expect(shape(T.Object({ c: T.Optional(T.String()) }))).toEqual(shape(Type.Object({ c: Type.Optional(Type.String()) })));
  });

  it('arrays and Unsafe', () => {
    expect(shape(T.Array(T.Integer(), { maxItems: 3 }))).toEqual(shape(Type.Array(Type.Integer(), { maxItems: 3 })));
    expect(shape(T.Unsafe<string>({ type: 'string', format: 'x' }))).toEqual(shape(Type.Unsafe<string>({ type: 'string', format: 'x' })));
  });

  it('Enum, Nullable, Dictionary and Ref are Unsafe with the JSON Schema the API always had', () => {
    expect(shape(T.Enum(['a', 'b'], { type: 'string' }))).toEqual(shape(Type.Unsafe<'a' | 'b'>({ type: 'string', enum: ['a', 'b'] })));
    const nullable = T.Nullable(T.String({ description: 'd' }));
    expect(shape(nullable)).toEqual(shape(Type.Unsafe<string | null>({ description: 'd', type: ['string', 'null'] })));
    expect(T.Nullable(T.Enum(['x'], { type: 'string' }))).toMatchObject({ type: ['string', 'null'], enum: ['x', null] });
    expect(shape(T.Dictionary(T.Integer()))).toEqual(shape(Type.Unsafe({ type: 'object', additionalProperties: Type.Integer() })));
    expect(shape(T.Ref('YikaError'))).toEqual(shape(Type.Unsafe({ $ref: 'YikaError#' })));
    expect((T.Ref('YikaError') as unknown as Record<symbol, unknown>)[Kind]).toBe('Unsafe');
  });
});
