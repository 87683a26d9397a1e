// Validates a configuration document against CONFIG_SCHEMA with ajv (the validator fastify already
// uses), then the post-checks JSON Schema cannot express. The first problem becomes a ConfigError
// naming the file, the key path, what is expected and what was found (never a secret's value).
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ConfigError } from './config-error.ts';
import { CONFIG_SCHEMA, PIN_PATTERN, SM2_KEY_PATTERN } from './config-schema.ts';
import { LISTEN_PATTERN } from '../api/api-config.ts';

type Ajv2020Class = typeof import('ajv/dist/2020.js').default;

let compiled: ValidateFunction | undefined;

/** The ajv validator of CONFIG_SCHEMA (draft 2020-12), compiled once on first use. */
function configSchemaValidator(): ValidateFunction {
  if (!compiled) {
    const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js') as Ajv2020Class;
    // verbose: errors carry the failing value and its schema, for messages that say expected/got.
    compiled = new Ajv2020({ allErrors: false, verbose: true }).compile(CONFIG_SCHEMA);
  }
  return compiled;
}

/** Throws a ConfigError for the first problem in `doc`; returns when the document is a valid configuration. */
export function validateConfigDocument(doc: unknown, source: string): void {
  const validate = configSchemaValidator();
  if (!validate(doc)) {
    // A repeated serial path: the post-check's message says which path and where.
    if (validate.errors?.[0]?.keyword === 'uniqueItems') postCheck(doc as SerialDoc, source);
    const { path, problem } = describe(validate.errors?.[0]);
    throw new ConfigError(source, path, problem);
  }
  postCheck(doc as SerialDoc, source);
}

type SerialDoc = { devices?: { serial?: Array<string | { path?: unknown }> } };

/** What the schema cannot say (its description lists these): each serial path once. */
function postCheck(doc: SerialDoc, source: string): void {
  const seen = new Set<string>();
  (doc.devices?.serial ?? []).forEach((entry, i) => {
    const path = typeof entry === 'string' ? entry : entry?.path;
    if (typeof path !== 'string') return;
    if (seen.has(path)) throw new ConfigError(source, `devices.serial[${i}].path`, `"${path}" is listed twice`);
    seen.add(path);
  });
}

/** What a pattern means, in words (the schema's patterns are not for people). A function: config-schema.ts imports this module. */
function patternMeaning(pattern: string): string | undefined {
  const meanings: Record<string, string> = {
    [PIN_PATTERN]: 'expected 4–12 digits (quote it in YAML to keep leading zeros)',
    [SM2_KEY_PATTERN]: 'expected an uncompressed SM2 public key in hex (04 ‖ x ‖ y, 130 hex digits)',
    [LISTEN_PATTERN]: 'expected HOST:PORT, :PORT or PORT with a port 0–65535 (e.g. 127.0.0.1:7611)',
  };
  return meanings[pattern];
}

interface SchemaNode {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  writeOnly?: boolean;
  pattern?: string;
  properties?: Record<string, unknown>;
}

function describe(e: ErrorObject | undefined): { path: string; problem: string } {
  if (!e) return { path: '', problem: 'invalid' };
  const path = keyPath(e.instancePath);
  const schema = (e.parentSchema ?? {}) as SchemaNode;
  const got = schema.writeOnly ? '' : `, got ${kind(e.data)}`; // secrets (PIN, tokens) are never echoed
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: join(path, String(params.additionalProperty)), problem: `unknown key (allowed: ${Object.keys(schema.properties ?? {}).join(', ')})` };
    case 'required':
      return { path: join(path, String(params.missingProperty)), problem: 'is required' };
    case 'enum':
      return { path, problem: `expected one of ${(params.allowedValues as unknown[]).join(', ')}${got}` };
    case 'const':
      return { path, problem: `expected ${JSON.stringify(params.allowedValue)}${got}` };
    case 'pattern':
      return { path, problem: `${patternMeaning(String(params.pattern)) ?? `expected text matching ${String(params.pattern)}`}${got}` };
    case 'minLength':
      return { path, problem: `${params.limit === 1 ? 'expected a non-empty string' : `expected at least ${String(params.limit)} characters`}${got}` };
    case 'type':
      // A string with a known pattern (the PIN, a key, a listen address): say what it should look like.
      if (schema.pattern && patternMeaning(schema.pattern)) return { path, problem: `${patternMeaning(schema.pattern)}${got}` };
      return { path, problem: `${expected(schema)}${got}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, problem: `${expected(schema)}${got}` };
    default:
      return { path, problem: `${e.message ?? 'invalid'}${got}` };
  }
}

function expected(s: SchemaNode): string {
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  const range = s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}–${s.maximum}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : s.maximum !== undefined ? ` ≤ ${s.maximum}` : '';
  switch (type) {
    case 'integer':
      return `expected an integer${range}`;
    case 'number':
      return `expected a number${range}`;
    case 'boolean':
      return 'expected true or false';
    case 'string':
      return 'expected a string';
    case 'object':
      return 'expected an object';
    case 'array':
      return 'expected a list';
    default:
      return `expected ${type ?? 'another value'}`;
  }
}

/** "/devices/serial/0/path" → "devices.serial[0].path" (the form the docs and messages use). */
function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : join(acc, p)), '');
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? 'a long string' : `"${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}
