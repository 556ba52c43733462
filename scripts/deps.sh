#!/usr/bin/env bash
# Installs the Debian 12 packages mtprobe needs, only those that are missing.
# Uses sudo when not run as root.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config            # toolchain (gcc)
  clang libclang-rt-14-dev                    # clang builds, libFuzzer and the sanitizer runtimes
  libssl-dev zlib1g-dev libpcap-dev           # OpenSSL 3, zlib (CRC32, gzip_packed), pcap decoding
  libjansson-dev libevent-dev check           # JSON, the mock server's event loop, unit tests
  python3 python3-telethon nodejs npm ca-certificates   # real third-party clients for the interop tests
  chromium python3-jsonschema python3-junitparser      # the report tests: HTML in a browser, schema, JUnit
  tcpdump tshark                              # the decoder's tests capture on loopback; its benchmark runs tshark
)

missing=()
for p in "${pkgs[@]}"; do
  # A Node.js installed from elsewhere (e.g. NodeSource) conflicts with Debian's npm: keep it.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
# env after sudo: sudo resets the environment, and tshark's package asks (debconf) whether non-root users may capture
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
