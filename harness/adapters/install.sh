#!/bin/sh
# Install what the interop adapters need on a Debian 12 machine:
#   - Debian's python3-telethon (Telethon 1.25.1) for /usr/bin/python3
#   - nodejs + npm (Debian's, unless a node >= 18 with npm is already there)
#   - the pinned npm package "telegram" (GramJS) into harness/adapters/node_modules via `npm ci`
# Idempotent: only installs what is missing. Run as root or with sudo available.
#
#   harness/adapters/install.sh           install what is missing, then check both adapters
#   harness/adapters/install.sh --check   only check; exit 1 when something is missing
set -eu

here=$(cd "$(dirname "$0")" && pwd)
check_only=no
[ "${1:-}" = "--check" ] && check_only=yes

have_telethon() { /usr/bin/python3 -c 'import telethon' >/dev/null 2>&1; }
have_node() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
}
have_gramjs() { [ -f "$here/node_modules/telegram/package.json" ]; }

if [ "$check_only" = yes ]; then
    status=0
    have_telethon || { echo "missing: python3-telethon for /usr/bin/python3"; status=1; }
    have_node || { echo "missing: node >= 18 and npm"; status=1; }
    have_gramjs || { echo "missing: $here/node_modules (run install.sh)"; status=1; }
    [ $status -eq 0 ] && echo "adapters: all requirements present"
    exit $status
fi

pkgs=""
have_telethon || pkgs="$pkgs python3-telethon"
have_node || pkgs="$pkgs nodejs npm"
if [ -n "$pkgs" ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    echo "install.sh: apt-get install$pkgs"
    $sudo apt-get update -q
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $pkgs
fi

# --ignore-scripts: the only install scripts in the tree build optional native speed-ups of the
# websocket module (bufferutil, utf-8-validate), which the adapters never use (plain TCP only).
echo "install.sh: npm ci in $here"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

echo "install.sh: checking the adapters"
/usr/bin/python3 "$here/telethon_adapter.py" --list-transports
node "$here/gramjs_adapter.js" --list-transports
