#!/usr/bin/env bash
# Runs the README's first command as a fresh machine of this kind would: in a fresh clone, under a private
# mount namespace whose /var/lib/apt/lists is an empty tmpfs (package lists never fetched) and whose dpkg
# status does not list nats-server (a bind-mounted copy of its database), so `apt-get install` alone fails with "Unable to locate
# package" as on a fresh image, and the line must really install the server. Passes once `murmur up` has written
# network.json; then stops it (SIGTERM to its process group) and checks nothing is left running.
# Needs root, unshare and network access to the Debian mirror. Not part of `npm test` (minutes, network).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
line="$(grep -m1 -E '^apt-get .*npx murmur up' "$repo/README.md")"
[ -n "$line" ] || { echo "check-first-line: no 'apt-get … npx murmur up' line in README.md" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/murmur"
echo "check-first-line: running under an empty /var/lib/apt/lists: $line"
log="$work/log"
# A private copy of dpkg's database without the nats-server stanza (stanzas are separated by blank lines); the
# whole directory is bind-mounted because dpkg renames files inside it.
cp -a /var/lib/dpkg "$work/dpkg"
awk -v RS= -v ORS='\n\n' '!/^Package: nats-server\n/' /var/lib/dpkg/status >"$work/dpkg/status"
setsid unshare -m bash -c "mount -t tmpfs tmpfs /var/lib/apt/lists && mount --bind '$work/dpkg' /var/lib/dpkg && cd '$work/murmur' && $line --no-load --data '$work/data'" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q 'network.json:' "$log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
ok=0
grep -q 'network.json:' "$log" && ok=1
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
sleep 2
left="$(pgrep -f "$work" || true)"
if [ "$ok" = 1 ] && [ -z "$left" ]; then
  echo "check-first-line: ok (network up, nothing left running)"
  exit 0
fi
tail -20 "$log" >&2
[ -z "$left" ] || echo "check-first-line: left running: $left" >&2
echo "check-first-line: FAILED" >&2
exit 1
