#!/usr/bin/env bash
# Installs Yika the way a user does and checks that it runs: `npm pack`, a global install into an
# empty prefix, then from / : `yikad --help`, `yikad --sim` serving a card read and the front-desk
# page, the light `yika/client` entry, and no devDependency (tsx, typescript, vitest) installed.
# A global install ignores the package's lockfile, overrides and allowScripts, which is the point:
# this is what a clinic gets. Run by .ci/run after `npm ci`; alone: `npm run smoke:pack`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/yika-smoke-pack.XXXXXX)
DAEMON_PID=
cleanup() {
  [[ -n $DAEMON_PID ]] && kill "$DAEMON_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "smoke-pack: FAIL: $*" >&2; exit 1; }
step() { echo "smoke-pack: $*"; }

# check_daemon LABEL YIKAD: --help exits 0; --sim (from /) gets ready, reads the card and serves the page.
check_daemon() {
  local label=$1 yikad=$2
  step "$label: yikad --help (from /)"
  "$yikad" --help >"$WORK/help.txt" || fail "$label: yikad --help exited $?"
  grep -q -- '--sim' "$WORK/help.txt" || fail "$label: yikad --help does not list --sim"
  step "$label: yikad --sim --listen 127.0.0.1:0 (from /)"
  "$yikad" --sim --listen 127.0.0.1:0 >"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  local url=
  for _ in $(seq 1 600); do
    url=$(grep -o '"url":"http://[^"]*"' "$WORK/daemon.log" | head -1 | cut -d'"' -f4 || true)
    [[ -n $url ]] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; fail "$label: yikad --sim exited before ready"; }
    sleep 0.1
  done
  [[ -n $url ]] || { cat "$WORK/daemon.log" >&2; fail "$label: yikad --sim not ready within 60 s"; }
  # node's fetch, so the check needs nothing but the Node the package runs on. The simulated card is
  # reported present shortly after ready: wait for it (under load this can take seconds), then read.
  node --input-type=module -e '
const url = process.argv[1];
let present = false;
for (let i = 0; i < 300 && !present; i++) {
  const r = await (await fetch(`${url}/v1/readers/sim-1`)).json();
  present = r.slots?.some((s) => s.slot === 1 && s.card === "present");
  if (!present) await new Promise((ok) => setTimeout(ok, 100));
}
if (!present) { console.error("the simulated card never showed as present"); process.exit(1); }
const card = await fetch(`${url}/v1/readers/sim-1/healthcard`);
const body = await card.json();
if (card.status !== 200 || !JSON.stringify(body).includes("DDF1/EF05")) {
  console.error(`healthcard: HTTP ${card.status} ${JSON.stringify(body).slice(0, 300)}`); process.exit(1);
}
const page = await fetch(`${url}/`);
const html = await page.text();
if (page.status !== 200 || !/<html/i.test(html)) { console.error(`page: HTTP ${page.status}`); process.exit(1); }
// The page ES modules: app.js and everything it imports, each served as JavaScript.
const seen = new Set();
const todo = ["/app.js"];
while (todo.length) {
  const path = todo.pop();
  if (seen.has(path)) continue;
  seen.add(path);
  const script = await fetch(`${url}${path}`);
  const js = await script.text();
  if (script.status !== 200 || !/javascript/.test(script.headers.get("content-type") ?? "")) { console.error(`page module ${path}: HTTP ${script.status}`); process.exit(1); }
  for (const m of js.matchAll(/from "\.\/([\w-]+\.js)"/g)) todo.push(`/${m[1]}`);
}
if (seen.size < 5) { console.error(`the page loads only ${[...seen].join(" ")}`); process.exit(1); }
' "$url" || { cat "$WORK/daemon.log" >&2; fail "$label: the daemon did not serve the card read or the page"; }
  step "$label: ready at $url, GET /v1/readers/sim-1/healthcard, / and the page's modules answered"
  kill "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
}

step "npm pack"
TGZ=$(npm pack --silent --pack-destination "$WORK" 2>/dev/null | tail -1)
TGZ="$WORK/$TGZ"
[[ -f $TGZ ]] || fail "npm pack produced no tarball"
LIST=$(tar -tzf "$TGZ")
grep -q '^package/dist/daemon/main.js$' <<<"$LIST" || fail "the tarball has no compiled daemon (dist/daemon/main.js)"
grep -q '^package/dist/daemon/web/public/index.html$' <<<"$LIST" || fail "the tarball has no front-desk page"
grep -q '^package/dist/daemon/web/public/app.js$' <<<"$LIST" || fail "the tarball has no compiled front-desk page module (dist/daemon/web/public/app.js)"
if grep -E '\.test\.(ts|js)$|^package/test/|^package/bench/|\.ts$' <<<"$LIST" | grep -v '\.d\.ts$' | head -5 | grep -q .; then
  fail "the tarball carries tests, benches or TypeScript sources: $(grep -E '\.test\.|^package/test/|^package/bench/|\.ts$' <<<"$LIST" | head -3 | tr '\n' ' ')"
fi
step "$(basename "$TGZ"): $(wc -l <<<"$LIST") files, $(du -k "$TGZ" | cut -f1) KiB"

PREFIX="$WORK/prefix"
mkdir -p "$PREFIX"
step "npm i -g --prefix $PREFIX"
(cd / && npm i -g --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "$TGZ" >"$WORK/install.log" 2>&1) || { cat "$WORK/install.log" >&2; fail "global install failed"; }
PKG="$PREFIX/lib/node_modules/yika"
[[ -x $PREFIX/bin/yikad ]] || fail "no yikad in $PREFIX/bin"
for dev in tsx typescript vitest esbuild sm-crypto; do
  found=$(find "$PREFIX" -path "*/node_modules/$dev/package.json" -print -quit)
  [[ -z $found ]] || fail "devDependency $dev is installed in the prefix: ${found%/package.json}"
done

cd /
check_daemon "checkout's compiled bin" "$ROOT/bin/yikad.js"
check_daemon "installed package" "$PREFIX/bin/yikad"
"$PREFIX/bin/yika" --help >/dev/null || fail "yika --help exited $?"
"$PREFIX/bin/yika-sim" --help >/dev/null || fail "yika-sim --help exited $?"

step "import('yika/client') loads neither fastify, serialport, ioredis nor pino"
cat >"$WORK/hooks.mjs" <<'JS'
export async function load(url, context, next) {
  (globalThis.__loaded ??= []).push(url);
  process.stderr.write(`loaded ${url}\n`);
  return next(url, context);
}
JS
(cd "$PKG" && node --input-type=module -e "
import { register } from 'node:module';
register('file://$WORK/hooks.mjs');
const m = await import('yika/client');
if (typeof m.YikaClient !== 'function') { console.error('yika/client has no YikaClient'); process.exit(1); }
const heavy = Object.keys((await import('node:module')).createRequire(import.meta.url).cache ?? {});
if (heavy.length) { console.error('CommonJS modules loaded: ' + heavy.slice(0, 5).join(' ')); process.exit(1); }
" 2>"$WORK/client.log") || { cat "$WORK/client.log" >&2; fail "yika/client did not load"; }
grep -q 'dist/daemon/client/index.js' "$WORK/client.log" || fail "the load hook saw no yika/client module (the check itself is broken)"
if grep -E 'node_modules/(fastify|serialport|@serialport|ioredis|pino|pcsclite)/' "$WORK/client.log"; then fail "yika/client pulled in a server dependency"; fi

step "ok"
