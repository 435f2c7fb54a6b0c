#!/usr/bin/env bash
# One command on a fresh Debian machine with Node: installs the LLVM toolchain
# and the npm dependencies, builds the two example drivers with the real
# clang-cl and lld-link, and checks them with hvci-build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-cl-19 >/dev/null || ! command -v lld-link-19 >/dev/null || ! command -v llvm-lib-19 >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y clang-19 lld-19 llvm-19
fi
[ -d node_modules ] || npm ci
[ -f dist/bundle/main.js ] || npm run build

bash examples/build-example.sh examples/hello-wdm
bash examples/build-example.sh examples/legacy-driver /merge:.rdata=.text /section:.data,rwe /nxcompat:no

echo "== hvci-build check examples/hello-wdm (expected to pass)"
npx hvci-build check examples/hello-wdm/build/hello-wdm.sys
echo
echo "== hvci-build check examples/legacy-driver (expected to fail with explained findings)"
if npx hvci-build check examples/legacy-driver/build/legacy-driver.sys; then
  echo "unexpected: the legacy driver passed" >&2
  exit 1
fi
echo
echo "Run 'npx hvci-build explain <rule>' for the why and the fix of each finding."
