// The front-desk page's JavaScript: browser ES modules compiled from page/*.ts, served as /<name>.js.
// An installed daemon serves what scripts/build.mjs compiled into public/ next to this file (dist/).
// Run from its sources (node --import tsx, the tests), there is no public/*.js: the daemon compiles
// page/*.ts itself on the first request, in memory, with the page's tsconfig — what tsx does for the
// daemon, done for the browser — so development and tests need no build step and never serve a
// stale page. That path loads TypeScript (a devDependency), and only exists where the sources do.
// Loading TypeScript takes seconds on a busy machine, so the result is kept for the next process in
// one file in node_modules/.cache (not /tmp: another user could plant a page there), keyed by the
// sources' hash.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's modules by URL path (/app.js …); load() gives the JavaScript. */
interface PageModules {
  paths: string[];
  load(path: string): Promise<string | Buffer>;
}

const SOURCE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));

export function pageModules(publicDir: string): PageModules {
  const built = existsSync(publicDir) ? readdirSync(publicDir).filter((f) => f.endsWith('.js')) : [];
  if (built.length) {
    const files = new Map(built.map((f) => [`/${f}`, readFileSync(join(publicDir, f))]));
    return { paths: [...files.keys()], load: async (path) => files.get(path) ?? '' };
  }
  if (!existsSync(SOURCE_DIR)) return { paths: [], load: async () => '' };
  const sources = readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.ts'));
  return {
    paths: sources.map((f) => `/${basename(f, '.ts')}.js`),
    load: async (path) => {
      compiledFromSources ??= cachedCompile(SOURCE_DIR);
      return compiledFromSources.get(path) ?? '';
    },
  };
}

let compiledFromSources: Map<string, string> | undefined;

/** compilePageModules(), or its result from an earlier process when the sources are the same. */
function cachedCompile(sourceDir: string): Map<string, string> {
  const require = createRequire(import.meta.url);
  const hash = createHash('sha256').update(String(require('typescript/package.json').version));
  for (const f of readdirSync(sourceDir).sort()) hash.update(`${f}\0`).update(readFileSync(join(sourceDir, f))).update('\0');
  const key = hash.digest('hex');
  const file = join(CACHE_DIR, `yika-page-${createHash('sha256').update(sourceDir).digest('hex').slice(0, 16)}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; modules: Array<[string, string]> };
    if (cached.key === key) return new Map(cached.modules);
  } catch {
    // no cache yet, or unreadable: compile
  }
  const modules = compilePageModules(sourceDir);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ key, modules: [...modules] }));
    renameSync(tmp, file); // atomic: a parallel test process reads the old file or the new one
  } catch {
    // not kept: the next process compiles again
  }
  return modules;
}

/**
 * Compiles every page/*.ts, one file at a time (the page's tsconfig has isolatedModules, so this is
 * what tsc would emit; type errors are `npm run typecheck`'s job).
 * @public also used by scripts/build.mjs, which imports it from dist/ by URL (a dead-code check cannot see that)
 */
export function compilePageModules(sourceDir: string): Map<string, string> {
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const configPath = join(sourceDir, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, sourceDir, undefined, configPath);
  const out = new Map<string, string>();
  for (const file of readdirSync(sourceDir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(sourceDir, file), 'utf8');
    out.set(`/${basename(file, '.ts')}.js`, ts.transpileModule(source, { compilerOptions: options, fileName: file }).outputText);
  }
  return out;
}
