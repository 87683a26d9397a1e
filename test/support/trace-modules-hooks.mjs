// Loader hook of trace-modules.mjs (runs on the loader thread): one line per loaded module URL.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  if (process.env.YIKA_TRACE_MODULES) appendFileSync(process.env.YIKA_TRACE_MODULES, `esm ${url}\n`);
  return next(url, context);
}
