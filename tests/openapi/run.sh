#!/bin/sh
# run.sh SCRIPT ARGS...: runs one Node script of this folder (ctest's entry point), saying what to
# install when Node.js or this folder's packages are missing.
set -eu
dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "tests/openapi: Node.js is missing; run scripts/install-deps --test" >&2
  exit 1
fi
modules="$dir/node_modules"
if [ ! -d "$modules/@apidevtools/swagger-parser" ] || [ ! -d "$modules/ajv-formats" ]; then
  echo "tests/openapi: its npm packages are missing; run 'npm ci' in tests/openapi" \
    "(scripts/install-deps --test does)" >&2
  exit 1
fi
script=$1
shift
NODE_NO_WARNINGS=1 exec node "$dir/$script" "$@"
