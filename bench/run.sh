#!/usr/bin/env bash
# npm run bench: Turnpike's load scenarios beside nginx (and the fastest minimal Node proxy),
# measured in the same run on the same machine with the shared harness (bench/baseline/bench.sh:
# nginx upstream on :9000, wrk pinned to core 1, proxy + upstream on core 0, 50 and 200 connections).
# Results: bench/results/results.tsv; the markdown table with ratios: bench/results/table.md.
# Then the micro-benchmarks (router match, config validation, a worker's compile, POST /config under
# load and memory per 1,000 routes/consumers, controller translate, gateway start time) into
# bench/results/micro.txt (~80 s).
#   ONLY=regex   run only matching scenarios (the micro-benchmarks run when it matches "micro")
#   ROUNDS=3 REPS=1   the whole list runs ROUNDS times, REPS runs a row each time: a row's runs are
#                     minutes apart, so a busy stretch of the host slows one run of many rows rather
#                     than every run of one row (the VMs' speed drifts by half within minutes)
#   DURATION=10s   as bench.sh     APPEND=1   add to OUT instead of starting it anew
# Turnpike's rows run the production build (dist/, what the Docker image runs), as nginx's rows run
# nginx's binary; turnpike-tsx-plain-w1 runs the sources through tsx, as `npm start` does.
set -uo pipefail
# nginx and haproxy install to /usr/sbin, which is not on every PATH (CI runs these as root).
export PATH="$PATH:/usr/sbin:/sbin"
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v haproxy >/dev/null || need+=(haproxy)
command -v curl >/dev/null || need+=(curl)   # config-apply.bench.ts posts with it
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
node --import tsx make-configs.ts
# The production build (what the Docker image runs) for Turnpike's rows: rebuilt so it is never stale.
(cd "$ROOT" && node scripts/build.mjs >/dev/null)
ROUNDS=${ROUNDS:-3}
export REPS=${REPS:-1} DURATION=${DURATION:-10s} CONNS=${CONNS:-50 200} OUT=${OUT:-$PWD/results/results.tsv}
mkdir -p results
GATEWAY="gateway --proxy-listen 127.0.0.1:8000 --admin-listen off --status-listen off --gui-listen off --log-level error"
TP="node $ROOT/dist/turnpike.mjs $GATEWAY"
TP_TSX="node $ROOT/bin/turnpike.js $GATEWAY"
NG='nginx -p $RUNDIR -e $RUNDIR/err.log -c $BENCH/'
KEY='apikey: key-alice-123'
# name | url | command | env
RUNS=(
  "nginx-proxy-w1|http://127.0.0.1:8080/|${NG}nginx-proxy.conf -g 'worker_processes 1;'|"
  "nginx-auth-w1|http://127.0.0.1:8081/|${NG}nginx-auth.conf -g 'worker_processes 1;'|HEADER"
  "haproxy-proxy-t1|http://127.0.0.1:8082/|HAPROXY_THREADS=1 haproxy -db -f \$BENCH/haproxy.cfg|"
  "haproxy-auth-t1|http://127.0.0.1:8083/|HAPROXY_THREADS=1 haproxy -db -f \$BENCH/haproxy.cfg|HEADER"
  "undici-stream|http://127.0.0.1:8091/|MODE=stream node proxy-undici.js|"
  "turnpike-plain-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/plain.yml|"
  "turnpike-tsx-plain-w1|http://127.0.0.1:8000/|$TP_TSX --workers 1 --config $PWD/configs/plain.yml|"
  "turnpike-key-auth-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/key-auth.yml|HEADER"
  "turnpike-key-auth-rl-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/key-auth-rate-limiting.yml|HEADER"
  "turnpike-cache-hit-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/proxy-cache.yml|"
  "turnpike-getting-started-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/getting-started.yml|HEADER"
  # The 10- and 10,000-route rows send the same request (key header included), so their ratio is the router's.
  "turnpike-10-routes-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/ten-routes.yml|HEADER"
  "turnpike-10k-w1|http://127.0.0.1:8000/|$TP --workers 1 --config $PWD/configs/large.yml|HEADER"
  "nginx-proxy-1m-w1|http://127.0.0.1:8080/1m.bin|${NG}nginx-proxy.conf -g 'worker_processes 1;'|"
  "turnpike-plain-1m-w1|http://127.0.0.1:8000/1m.bin|$TP --workers 1 --config $PWD/configs/plain.yml|"
  "nginx-proxy-w2|http://127.0.0.1:8080/|${NG}nginx-proxy.conf -g 'worker_processes 2;'|"
  "turnpike-plain-w2|http://127.0.0.1:8000/|$TP --workers 2 --config $PWD/configs/plain.yml|"
)
for round in $(seq "$ROUNDS"); do
  for entry in "${RUNS[@]}"; do
    IFS='|' read -r name url cmd env <<<"$entry"
    [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]] && continue
    warm=3s; [[ $cmd == *node* ]] && warm=15s
    hdr=''; [ "$env" = HEADER ] && hdr=$KEY
    # A run starts its own file (bench.sh appends): the last one is kept as OUT.prev. APPEND=1 adds to it.
    if [ -z "${started:-}" ]; then started=1; [ -z "${APPEND:-}" ] && [ -f "$OUT" ] && mv "$OUT" "$OUT.prev"; fi
    ROUND=$round HEADER=$hdr WARMUP=${WARMUP:-$warm} bash baseline/bench.sh "$name" "$url" "$cmd" || echo "[bench] $name failed" >&2
  done
done
[ -n "${started:-}" ] && { node --import tsx report.ts "$OUT" > results/table.md; cat results/table.md; }
if [ -z "${ONLY:-}" ] || [[ micro =~ $ONLY ]]; then
  { for b in router-match config-compile snapshot-compile config-apply translate start; do
      # The worker's half of an apply runs with the workers' young generation (supervisor.ts).
      flags=(); [ "$b" = snapshot-compile ] && flags=(--max-semi-space-size=4)
      echo "## node ${flags[*]:+${flags[*]} }--import tsx bench/$b.bench.ts"; node "${flags[@]}" --import tsx "$b.bench.ts" || echo "[bench] $b failed"; echo; done
  } 2>&1 | tee results/micro.txt
fi
