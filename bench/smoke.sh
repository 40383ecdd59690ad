#!/usr/bin/env bash
# npm run bench:smoke: proves the bench still runs (under a minute); asserts no timings.
# One short wrk run against nginx and against Turnpike on the plain config. OUT=file.tsv puts the
# rows elsewhere (test/bench/smoke.test.ts, which runs this in npm test).
set -euo pipefail
# nginx and haproxy install to /usr/sbin, which is not on every PATH (CI runs these as root).
export PATH="$PATH:/usr/sbin:/sbin"
cd "$(dirname "$0")"
command -v nginx >/dev/null && command -v wrk >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null; }
node --import tsx make-configs.ts
export REPS=1 DURATION=3s WARMUP=2s CONNS=50 OUT=${OUT:-$PWD/results/smoke.tsv}
rm -f "$OUT"
bash baseline/bench.sh nginx-proxy-w1 http://127.0.0.1:8080/ 'nginx -p $RUNDIR -e $RUNDIR/err.log -c $BENCH/nginx-proxy.conf -g "worker_processes 1;"'
# Turnpike on 18000, not 8000: a developer's `npm start` may hold 8000 while the tests run.
bash baseline/bench.sh turnpike-plain-w1 http://127.0.0.1:18000/ \
  "node $(cd .. && pwd)/bin/turnpike.js gateway --proxy-listen 127.0.0.1:18000 --admin-listen off --status-listen off --gui-listen off --log-level error --workers 1 --config $PWD/configs/plain.yml"
node --import tsx report.ts "$OUT"
