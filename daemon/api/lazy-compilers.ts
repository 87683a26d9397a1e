// Route schemas compiled on first use instead of at start. fastify compiles an ajv validator and a
// fast-json-stringify serializer for every route schema when the server becomes ready; with the
// daemon's ~40 documented routes that was a third of its start-up CPU time and ~10 MiB, for routes a
// desk may never call. These factories are fastify's own (@fastify/ajv-compiler and
// @fastify/fast-json-stringify-compiler, the versions fastify itself uses, pinned), wrapped so that
// each route's function is built on its first request; behaviour is otherwise unchanged (same
// options, same shared schemas, ajv's `errors` passed through).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type RouteFunction = ((this: unknown, data: unknown) => unknown) & { errors?: unknown };
type Compile = (route: unknown) => RouteFunction;
type Factory = (externalSchemas: unknown, options: unknown) => Compile;

function lazy(load: () => Factory): Factory {
  return (externalSchemas, options) => {
    let compile: Compile | undefined;
    return (route) => {
      let fn: RouteFunction | undefined;
      const wrapper: RouteFunction = function (this: unknown, data: unknown) {
        fn ??= (compile ??= load()(externalSchemas, options))(route);
        const result = fn.call(this, data);
        wrapper.errors = fn.errors; // fastify reads a failed validation's errors from the function
        return result;
      };
      return wrapper;
    };
  };
}

/** For `Fastify({ schemaController: { compilersFactory: LAZY_COMPILERS } })`. */
export const LAZY_COMPILERS = {
  buildValidator: lazy(() => (require('@fastify/ajv-compiler') as () => Factory)()),
  buildSerializer: lazy(() => (require('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => Factory }).SerializerSelector()),
};
