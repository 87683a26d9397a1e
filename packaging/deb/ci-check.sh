#!/usr/bin/env bash
# The Debian package end to end on this machine (run by .ci/run; needs root): build it, install it with
# dpkg -i, check the unit (systemd-analyze verify) and the udev rules, run the installed yikad --sim as
# the yika user from /, read the simulated card through its API and with the installed `yika`, run
# `yika doctor --as yika`, then dpkg --purge and check nothing is left (files, user, group).
# Idempotent: a leftover install from an earlier run is purged first; on any failure the trap stops the
# daemon and purges, so the machine is left as it was found.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
  echo "deb-check: SKIPPED: needs root (dpkg -i, a system user); run: sudo packaging/deb/ci-check.sh" >&2
  exit 0
fi

work=$(mktemp -d /tmp/yika-deb-check.XXXXXX)
daemon_pid=
cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  if dpkg-query -W -f='${Status}' yika 2>/dev/null | grep -q 'install\|config-files'; then dpkg --purge yika >/dev/null 2>&1 || true; fi
  if [ "$rc" != 0 ] && [ -f "$work/yikad.log" ]; then echo "deb-check: daemon log:" >&2; tail -n 30 "$work/yikad.log" >&2; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

fail() { echo "deb-check: FAIL: $*" >&2; exit 1; }
step() { echo "deb-check: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

if dpkg-query -W -f='${Status}' yika 2>/dev/null | grep -q 'install\|config-files'; then
  step "purging a yika package left by an earlier run"
  dpkg --purge yika >/dev/null
fi
if getent passwd yika >/dev/null; then fail "a user yika exists but no yika package: not ours to remove; delete it (userdel yika) and rerun"; fi

t=$(now)
deb=$(npm run -s package:deb | tail -n 1)
[ -f "$deb" ] || fail "package:deb printed no .deb path"
step "built $deb ($(du -h "$deb" | cut -f1)) in $(since "$t")"
dpkg-deb --info "$deb" | grep -E '^ (Depends|Recommends|Installed-Size):' || true

t=$(now)
dpkg -i "$deb" >/dev/null
step "installed in $(since "$t")"
for f in /usr/bin/yikad /usr/bin/yika /usr/lib/yika/node; do [ -x "$f" ] || fail "$f missing or not executable"; done
for f in /lib/systemd/system/yikad.service /lib/udev/rules.d/60-yika.rules /etc/yika/yikad.yaml; do [ -f "$f" ] || fail "$f missing"; done
id -nG yika | tr ' ' '\n' | grep -qx dialout || fail "yika is not in group dialout"
[ "$(stat -c '%U:%G %a' /var/lib/yika)" = "yika:yika 750" ] || fail "/var/lib/yika is $(stat -c '%U:%G %a' /var/lib/yika)"
[ "$(stat -c '%U:%G %a' /etc/yika/yikad.yaml)" = "root:yika 640" ] || fail "/etc/yika/yikad.yaml is $(stat -c '%U:%G %a' /etc/yika/yikad.yaml)"
grep -q 'ID_MM_DEVICE_IGNORE' /lib/udev/rules.d/60-yika.rules || fail "udev rules without ID_MM_DEVICE_IGNORE"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/yikad.service || fail "systemd-analyze verify yikad.service"
  step "systemd-analyze verify: ok; $(systemd-analyze security --offline=true /lib/systemd/system/yikad.service 2>/dev/null | grep -o 'Overall exposure level.*' || echo 'security: n/a')"
else
  step "systemd-analyze not installed: unit not verified"
fi
/usr/bin/yikad --help >/dev/null || fail "yikad --help"

# The installed daemon as the service would run it: the yika user (with its groups), from /, with the
# packaged configuration; --sim for a card without hardware. Port 0: the log's ready line has the URL.
t=$(now)
(cd / && exec setpriv --reuid=yika --regid=yika --init-groups --reset-env -- /usr/bin/yikad --sim --config /etc/yika/yikad.yaml --listen 127.0.0.1:0 >"$work/yikad.log" 2>&1) &
daemon_pid=$!
url=
for _ in $(seq 120); do
  url=$(grep -o '"msg":"ready: http://[^"]*"' "$work/yikad.log" | head -n 1 | sed 's/.*ready: //; s/"$//') || true
  [ -n "$url" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "yikad exited before ready"
  sleep 0.5
done
[ -n "$url" ] || fail "yikad not ready after 60 s"
step "yikad --sim ready at $url in $(since "$t") (user $(ps -o user= -p "$daemon_pid"))"

# Read the card: the file DDF1/EF05 of the simulated card has item 2 = "0002" (as test/integration/daemon-main).
# The bundled Node's fetch, not curl: a fresh Debian 12 may not have curl.
get() { /usr/lib/yika/node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })' "$1"; }
body=
for _ in $(seq 40); do
  body=$(get "$url/v1/readers/sim-1/healthcard?files=DDF1/EF05") || true
  echo "$body" | grep -q '"itemNo":2,[^}]*"value":"0002"' && break
  sleep 0.5
done
echo "$body" | grep -q '"itemNo":2,[^}]*"value":"0002"' || fail "reading the card: ${body:0:300}"
step "card read through the installed daemon"
# The front-desk page: index.html loads /app.js, an ES module that imports the page's other modules.
get "$url/" | grep -q '<script type="module" src="/app.js">' || fail "the installed daemon does not serve the front-desk page"
get "$url/app.js" | grep -q 'from "./readers.js"' || fail "the installed daemon does not serve the page's modules (/app.js)"
get "$url/readers.js" | grep -q 'class ReaderList' || fail "the installed daemon does not serve /readers.js"
step "front-desk page and its modules served"
setpriv --reuid=yika --regid=yika --init-groups -- /usr/bin/yika readers --url "$url" | grep -q '^sim-1 ' || fail "yika readers"
setpriv --reuid=yika --regid=yika --init-groups -- /usr/bin/yika doctor --config /etc/yika/yikad.yaml --url "$url" --json >"$work/doctor.json" || true
/usr/lib/yika/node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).checks.find((k) => k.check === "config"); process.exit(c && c.status === "ok" ? 0 : 1)' "$work/doctor.json" || fail "yika doctor: the packaged yikad.yaml is not valid: $(head -c 400 "$work/doctor.json")"
step "yika doctor (as yika): packaged configuration valid"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "yikad exited $? on SIGTERM"
daemon_pid=

t=$(now)
dpkg --purge yika >/dev/null
step "purged in $(since "$t")"
left=()
for f in /usr/bin/yikad /usr/bin/yika /usr/lib/yika /etc/yika /var/lib/yika /lib/systemd/system/yikad.service /lib/udev/rules.d/60-yika.rules /usr/share/doc/yika; do
  [ -e "$f" ] && left+=("$f")
done
getent passwd yika >/dev/null && left+=("user yika")
getent group yika >/dev/null && left+=("group yika")
grep -q '[:,]yika\(,\|$\)' /etc/group && left+=("yika in /etc/group member lists")
dpkg-query -W yika >/dev/null 2>&1 && left+=("dpkg still knows yika")
((${#left[@]} == 0)) || fail "left after purge: ${left[*]}"
step "ok: built, installed, ran, read a card, purged; nothing left"
