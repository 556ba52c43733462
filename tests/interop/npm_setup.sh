#!/bin/sh
# Makes GramJS (npm package "telegram", pinned in harness/adapters/package-lock.json)
# available to the interop tests: the ctest fixture "interop/npm_ci" runs this once per build.
#
#   npm_setup.sh ADAPTERS_DIR DEST_DIR
#
# If ADAPTERS_DIR/node_modules already holds the pinned version (harness/adapters/install.sh),
# nothing is downloaded.  Otherwise `npm ci` installs the locked tree into DEST_DIR/node_modules
# (the tests point NODE_PATH there), so the source tree stays untouched.
set -eu
src=$1
dest=$2

fail() {
    echo "interop/npm_ci: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || fail "node is not installed (scripts/deps.sh installs nodejs and npm)"
pinned=$(node -e 'console.log(require(process.argv[1]).dependencies.telegram)' "$src/package.json") ||
    fail "cannot read $src/package.json"
have() {
    [ -f "$1/telegram/package.json" ] &&
        [ "$(node -e 'console.log(require(process.argv[1]).version)' "$1/telegram/package.json")" = "$pinned" ]
}
if have "$src/node_modules"; then
    echo "interop/npm_ci: telegram $pinned already installed in $src/node_modules"
    exit 0
fi
if have "$dest/node_modules" && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
    echo "interop/npm_ci: telegram $pinned already installed in $dest/node_modules"
    exit 0
fi
command -v npm >/dev/null 2>&1 || fail "npm is not installed (scripts/deps.sh installs nodejs and npm)"
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
registry=$(npm config get registry 2>/dev/null || echo "https://registry.npmjs.org/")
# Node trusts only its bundled CAs; also trust the system store, so that a CA the machine's
# administrator added (a TLS-inspecting proxy's, say) works as it does for apt and curl.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
echo "interop/npm_ci: npm ci in $dest (telegram $pinned from $registry)"
if ! (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    fail "'npm ci' failed.  GramJS comes from the npm registry $registry: is it reachable from this machine
(proxy settings: npm config get proxy / https-proxy)?  Alternatively run harness/adapters/install.sh
once where the registry is reachable; the tests then use harness/adapters/node_modules."
fi
have "$dest/node_modules" || fail "npm ci finished but $dest/node_modules/telegram is not version $pinned"
echo "interop/npm_ci: telegram $pinned installed"
