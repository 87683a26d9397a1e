// Preload (`node --import ./test/support/trace-modules.mjs …`) that records every module the process
// loads into the file named by YIKA_TRACE_MODULES: ES modules as the loader sees them (a hook) and, at
// exit, every CommonJS module in the require cache (packages required from inside other packages).
// Tests use it to check what a start-up or an entry point really pulls in.
import { createRequire, register } from 'node:module';
import { appendFileSync } from 'node:fs';

const out = process.env.YIKA_TRACE_MODULES;
if (out) {
  register(new URL('./trace-modules-hooks.mjs', import.meta.url));
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).map((f) => `cjs ${f}\n`).join('')));
}
