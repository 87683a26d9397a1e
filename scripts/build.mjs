#!/usr/bin/env node
// `npm run build`: compiles the TypeScript sources with tsc into dist/ (one .js per .ts, with source
// maps that carry their sources, so a stack trace from an installed package still points at real
// lines), copies the front-desk page's static files (HTML, CSS, icon) next to the code that serves
// them, and compiles the page's TypeScript modules (daemon/web/page, browser ES modules with their own
// tsconfig) into the same folder. dist/ is self-contained: with package.json and the production dependencies it is all
// an installed Yika needs — no tsx, no TypeScript, no sources.
//
// --if-stale: do nothing when dist/ is newer than every source file (npm start, prepack, prepare
// call it with this flag, so `npm pack` right after `npm ci` does not compile twice).
// Plain JavaScript on purpose: it runs before anything is compiled and needs no devDependency but tsc.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
const SOURCE_DIRS = ['common', 'crypto', 'protocol', 'apdu', 'qr', 'firmware-sim', 'daemon'];
/** Non-TypeScript files the compiled code reads at run time: [source dir, destination in dist]. */
const ASSETS = [['daemon/web/public', 'daemon/web/public']];
const PAGE_SOURCES = join(ROOT, 'daemon/web/page');

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs']) newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource()) {
  process.stderr.write('build: dist/ is up to date\n');
  process.exit(0);
}

const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
} catch {
  process.stderr.write('build: tsc failed (see above); dist/ is incomplete\n');
  process.exit(1);
}
for (const [from, to] of ASSETS) {
  mkdirSync(join(DIST, to), { recursive: true });
  cpSync(join(ROOT, from), join(DIST, to), { recursive: true });
}
// The page: type-checked under its own tsconfig (DOM, no Node), then compiled module by module by the
// daemon's own page compiler (the one it uses when it runs from its sources), next to index.html.
try {
  execFileSync(process.execPath, [tsc, '-p', join(PAGE_SOURCES, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
} catch {
  process.stderr.write('build: tsc failed on the front-desk page (see above); dist/ is incomplete\n');
  process.exit(1);
}
const { compilePageModules } = await import(pathToFileURL(join(DIST, 'daemon/web/page-modules.js')).href);
for (const [path, js] of compilePageModules(PAGE_SOURCES)) writeFileSync(join(DIST, 'daemon/web/public', path.slice(1)), js);
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
process.stderr.write(`build: dist/ compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
