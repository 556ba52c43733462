#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the main job, the full
# self-conformance run:
#   1. every known-answer vector against the reference implementation  -> reports/kat.*
#   2. `mtprobe check client` against the reference client, every transport   -> reports/clients/reference/
#   3. ... against Telethon (every transport) and GramJS (the three it has), each judged with its
#      expectations file (harness/adapters/expect/)                      -> reports/clients/<name>/
#   4. the three merged into one matrix                                   -> reports/index.html
# Exit 0 when every vector passed, the reference client passed every case, and the real clients
# deviated only as their expectations files say; 1 otherwise; 3 when a step could not run.
#
#   scripts/run.sh                 everything
#   scripts/run.sh --quick         one plain and one obfuscated transport per client
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=no
[ "${1:-}" = "--quick" ] && quick=yes

bash scripts/deps.sh || exit 3
bash scripts/build.sh release || exit 3
sh harness/adapters/install.sh >/dev/null || { echo "run.sh: the client adapters could not be installed" >&2; exit 3; }

mtprobe=$root/build/mtprobe
jobs=$(nproc 2>/dev/null || echo 2)
status=0
step() { # name, command...: runs one step, keeps the worst exit status
  local name=$1
  shift
  echo "### $name"
  "$@"
  local rc=$?
  echo "### $name: exit $rc"
  if [ $rc -eq 3 ] || { [ $rc -ne 0 ] && [ $status -eq 0 ]; }; then status=$rc; fi
}

step "known-answer vectors" "$mtprobe" kat --report-dir reports

# The placeholders are filled in by mtprobe check (docs/check-client.md); '{secret}' may be empty.
adapter_args="--connect {host}:{port} --rsa-key {rsa_pub} --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}"
ref_cmd="$mtprobe client --server {host}:{port} --rsa-pub {rsa_pub} --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}"
telethon_cmd="/usr/bin/python3 $root/harness/adapters/telethon_adapter.py $adapter_args"
gramjs_cmd="node $root/harness/adapters/gramjs_adapter.js $adapter_args"
if [ $quick = yes ]; then
  ref_t=intermediate,obfuscated-abridged telethon_t=intermediate,obfuscated-abridged gramjs_t=abridged,obfuscated-abridged
else
  ref_t=all telethon_t=all gramjs_t=abridged,full,obfuscated-abridged
fi

step "client suite: the reference client" "$mtprobe" check client --cmd "$ref_cmd" --transports "$ref_t" \
  --jobs "$jobs" --require-pass --report-dir reports/clients/reference
step "client suite: Telethon" "$mtprobe" check client --cmd "$telethon_cmd" --transports "$telethon_t" \
  --jobs "$jobs" --expect harness/adapters/expect/telethon.json --report-dir reports/clients/telethon
step "client suite: GramJS" "$mtprobe" check client --cmd "$gramjs_cmd" --transports "$gramjs_t" \
  --jobs "$jobs" --expect harness/adapters/expect/gramjs.json --report-dir reports/clients/gramjs

step "merged report" "$mtprobe" report merge reference=reports/clients/reference telethon=reports/clients/telethon \
  gramjs=reports/clients/gramjs --out reports
echo "run.sh: reports in $root/reports (open reports/index.html); exit $status"
exit $status
