#!/usr/bin/env bash
# Builds one example driver with clang-cl and lld-link, as a driver project's
# own build would: build-example.sh <example-dir> [extra lld-link flags...]
set -euo pipefail
dir=$1; shift
find_tool() {
  # Debian installs versioned names (clang-cl-19): take the highest. A plain
  # name may be an older LLVM (Debian 12's llvm-lib is LLVM 14, without /def:).
  local v
  v=$(compgen -c "$1-" | grep -E "^$1-[0-9]+$" | sort -t- -k3 -n | tail -1 || true)
  if [ -n "$v" ]; then echo "$v"; else echo "$1"; fi
}
CL=$(find_tool clang-cl); LINK=$(find_tool lld-link); LIB=$(find_tool llvm-lib)
mkdir -p "$dir/build"
km="$(dirname "$0")/../templates/driver"
"$LIB" /nologo /def:"$km/ntoskrnl.def" /machine:x64 /out:"$dir/build/ntoskrnl.lib" >/dev/null
"$CL" /nologo /c /kernel /Gy /GS- /O2 -DPOOL_NX_OPTIN_AUTO=1 --target=x86_64-pc-windows-msvc /I"$km/include" \
  /Fo"$dir/build/driver.obj" -- "$dir/driver.c"
"$LINK" /nologo /driver /subsystem:native /entry:DriverEntry /nodefaultlib \
  "$dir/build/driver.obj" "$dir/build/ntoskrnl.lib" /out:"$dir/build/$(basename "$dir").sys" "$@"
