#!/usr/bin/env bash
# One command on a fresh Debian machine with Node: installs the LLVM toolchain
# and the npm packages, builds the example drivers with hvci-build (clang-cl and
# lld-link behind its wrappers), and checks an image linked without them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The LLVM toolchain (clang-cl-19 is in clang-tools-19, not clang-19), and cmake, ninja and make, which the test suite's build-system examples use.
missing=0
for tool in clang-cl-19 lld-link-19 llvm-lib-19 llvm-dlltool-19 llvm-readobj-19 cmake ninja make; do
  command -v "$tool" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 1 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y clang-tools-19 lld-19 llvm-19 cmake ninja-build make
fi
[ -d node_modules ] || npm ci
[ -f dist/bin/hvci-build.cjs ] || npm run build
ROOT=$PWD
hvci() { node "$ROOT/dist/bin/hvci-build.cjs" "$@"; }

echo "== examples/hello-wdm: hvci-build build (expected to pass)"
(cd examples/hello-wdm && hvci build --verbose)
echo
echo "== examples/legacy-driver: hvci-build build (expected to be refused, one explained error per problem)"
if (cd examples/legacy-driver && hvci build); then
  echo "unexpected: the legacy driver was built" >&2
  exit 1
fi
echo
echo "== the same legacy driver linked by bare lld-link, then hvci-build check (expected to fail)"
bash examples/build-example.sh examples/legacy-driver /merge:.rdata=.text /section:.data,rwe /nxcompat:no
if hvci check examples/legacy-driver/build/legacy-driver.sys; then
  echo "unexpected: the legacy driver passed" >&2
  exit 1
fi
echo
echo "Done. 'npx hvci-build explain <rule>' gives the why and the fix of each finding."
