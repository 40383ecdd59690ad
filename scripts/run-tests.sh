#!/usr/bin/env bash
# Runs the whole suite with node:test. Node 20 neither expands globs for --test nor finds .ts files,
# so the file list is built here. Pass paths to run a subset: scripts/run-tests.sh src/gateway
# The soak (test/soak) loads both cores for a minute, so a full run gives it the machine to itself
# after everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
# Child gateways run a bundle of the sources (test/harness/gateway-process.ts says when): built
# here, under a second, so that each of the suite's ~100 process starts skips tsx's loader.
node scripts/build.mjs --outdir node_modules/.cache/turnpike-test-build >/dev/null
roots=("$@")
full=0
[ ${#roots[@]} -eq 0 ] && { roots=(src test examples); full=1; }
run() { node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT:-120000}" "$@"; }
if [ $full -eq 1 ]; then
  mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' -not -path 'test/soak/*' | sort)
  mapfile -t soak < <(find test/soak -name '*.test.ts' | sort)
  status=0
  run "${files[@]}" || status=$?
  run "${soak[@]}" || status=$?
  exit $status
fi
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
run "${files[@]}"
