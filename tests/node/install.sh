#!/bin/sh
# install.sh -- installs the grpc-js peers' npm packages (package-lock.json here) into
# BUILD/node_modules (build/ by default), only when they are missing or the lock changed.
# Exits 0 with "SKIP: npm registry unreachable" when they cannot be installed; callers
# then look for BUILD/node_modules/@grpc/reflection and SKIP their Node checks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/../../build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
stamp=$build/node_modules/.workbench-lock
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$build/node_modules/@grpc/reflection" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: npm is not installed"
    exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$build/"
if ! (cd "$build" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts >"$build/npm-install.log" 2>&1); then
    echo "SKIP: npm registry unreachable ($(tail -n 1 "$build/npm-install.log"))"
    exit 0
fi
cp "$here/package-lock.json" "$stamp"
