// The builder the API's schemas are written with: TypeBox's types (TObject, TString … and Static, so a
// schema gives its TypeScript type), with a small run-time of our own that builds the same JSON Schema
// objects TypeBox's Type.* builds (test/unit/daemon/json-type.test.ts compares them one by one).
// Why not TypeBox's run-time: its entry loads ~200 modules (≈ 150 ms CPU and 12 MiB RSS at start on
// this machine) to build a few dozen plain objects; the daemon's start is measured (bench/footprint.ts).
// `@sinclair/typebox` is only imported as types here: nothing of it is loaded at run time.
// Enum, Nullable, Dictionary and Ref are TypeBox's Unsafe with the JSON Schema the API always had
// (`enum`, `type: [x, 'null']`, `additionalProperties`, `$ref: 'Id#'`), so validation, serialization
// and the OpenAPI document are what they were.
import type {
  ArrayOptions,
  Kind as KindSymbol,
  NumberOptions,
  ObjectOptions,
  OptionalKind as OptionalSymbol,
  SchemaOptions,
  Static,
  StringOptions,
  TArray,
  TBoolean,
  TInteger,
  TNumber,
  TObject,
  TOptional,
  TProperties,
  TSchema,
  TString,
  TUnsafe,
} from '@sinclair/typebox';

export type { Static, TSchema };

// The symbols TypeBox marks its schemas with (Symbol.for: the same values as TypeBox's own).
const Kind = Symbol.for('TypeBox.Kind') as typeof KindSymbol;
const OptionalKind = Symbol.for('TypeBox.Optional') as typeof OptionalSymbol;

type Json = Record<string | symbol, unknown>;

/** TypeBox's CreateType: options first, the type's own keys over them. */
function create<T>(schema: Json, options?: object): T {
  return (options === undefined ? schema : { ...options, ...schema }) as T;
}

function object<P extends TProperties>(properties: P, options?: ObjectOptions): TObject<P> {
  const required = Object.keys(properties).filter((key) => !(OptionalKind in properties[key]));
  const schema: Json = required.length > 0 ? { [Kind]: 'Object', type: 'object', required, properties } : { [Kind]: 'Object', type: 'object', properties };
  return create(schema, options);
}

function unsafe<T>(options: Json = {}): TUnsafe<T> {
  return create({ [Kind]: (options[Kind] as string | undefined) ?? 'Unsafe' }, options);
}

/** The members of a TypeBox schema that are not JSON (its Kind marks), for spreading a schema's JSON. */
function jsonOf(schema: TSchema): Json {
  const { [Kind]: _kind, [OptionalKind]: _optional, ...json } = schema as unknown as Json;
  return json;
}

export const T = {
  Object: object,
  String: (options?: StringOptions): TString => create({ [Kind]: 'String', type: 'string' }, options),
  Integer: (options?: NumberOptions): TInteger => create({ [Kind]: 'Integer', type: 'integer' }, options),
  Number: (options?: NumberOptions): TNumber => create({ [Kind]: 'Number', type: 'number' }, options),
  Boolean: (options?: SchemaOptions): TBoolean => create({ [Kind]: 'Boolean', type: 'boolean' }, options),
  Array: <I extends TSchema>(items: I, options?: ArrayOptions): TArray<I> => create({ [Kind]: 'Array', type: 'array', items }, options),
  /** A property that may be absent. */
  Optional: <S extends TSchema>(schema: S): TOptional<S> => ({ ...schema, [OptionalKind]: 'Optional' }) as TOptional<S>,
  /** Any JSON Schema, typed as T (TypeBox's Type.Unsafe). */
  Unsafe: unsafe,
  /** One of these values: `{ enum: [...] }` (with `type` when given in options). */
  Enum: <const V extends readonly (string | number | null)[]>(values: V, options?: SchemaOptions): TUnsafe<V[number]> => unsafe({ ...options, enum: [...values] }),
  /** The schema (one with a `type`) or null: `type: [its type, 'null']`, and null added to an enum. */
  Nullable: <S extends TSchema>(schema: S, options?: SchemaOptions): TUnsafe<Static<S> | null> => {
    const json = jsonOf(schema);
    const nullable: Json = { ...json, ...options, type: [json.type, 'null'] };
    if (Array.isArray(json.enum)) nullable.enum = [...json.enum, null];
    return unsafe(nullable);
  },
  /** An object of any keys whose values all follow `value` (JSON Schema additionalProperties). */
  Dictionary: <V extends TSchema>(value: V, options?: SchemaOptions): TUnsafe<Record<string, Static<V>>> => unsafe({ ...options, type: 'object', additionalProperties: value }),
  /** A reference to a schema registered with app.addSchema under `id` (fastify's "Id#" form). */
  Ref: <S extends TSchema>(id: string, options?: SchemaOptions): TUnsafe<Static<S>> => unsafe({ ...options, $ref: `${id}#` }),
};
