#!/usr/bin/env bash
# Runs the whole suite with node:test. Node 20 neither expands globs for --test nor finds .ts files,
# so the file list is built here. Pass paths to run a subset: scripts/run-tests.sh src/gateway
set -euo pipefail
cd "$(dirname "$0")/.."
roots=("$@")
[ ${#roots[@]} -eq 0 ] && roots=(src test examples)
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT:-120000}" "${files[@]}"
