#!/usr/bin/env bash
# bench/cpu.sh ROUNDS [name=DIR[:ENV=val] ...]: CPU time per request of each proxy, measured alone.
# Layout: every proxy on core 0; the upstream nginx and wrk on core 1, so a proxy's CPU is its own
# (in bench.sh's layout the upstream shares the proxy's core and its work is charged to the
# proxy's writes). For each proxy the user and system CPU of its serving process (/proc/PID/stat)
# over a 5 s `wrk -c50` run, divided by the requests wrk counted; medians over ROUNDS interleaved
# runs. Proxies: nginx (1 worker), the floor (baseline/proxy-floor.js: no HTTP at all), the least
# an HTTP proxy does (baseline/proxy-llhttp.js: llhttp on both sides), undici `stream` and node:http
# minimal proxies, and Turnpike from each DIR given (default: this checkout)
# running its build (`npm run build` first), 1 worker, bench/configs/plain.yml.
# CFG=bench/configs/key-auth-rate-limiting.yml HDR='apikey: key-alice-123' picks another scenario
# for Turnpike (the header goes to every proxy; the baselines ignore it). BASELINES="nginx" keeps
# only the baselines named.
# Example: bench/cpu.sh 5 old=/tmp/old new=$PWD      (DIRs are checkouts with node_modules and dist/)
set -uo pipefail
# nginx and haproxy install to /usr/sbin, which is not on every PATH (CI runs these as root).
export PATH="$PATH:/usr/sbin:/sbin"
HDR=${HDR:-X-Bench: 1}
R=${1:-5}; shift || true
B=$(cd "$(dirname "$0")" && pwd)/baseline; ROOT=$(cd "$B/../.." && pwd); CFG=$(realpath -m "${CFG:-$B/../configs/plain.yml}")
[ -f "$CFG" ] || (cd "$B/.." && node --import tsx make-configs.ts >/dev/null)
[ $# -gt 0 ] || set -- "turnpike=$ROOT"
D=$(mktemp -d); mkdir -p $D/up $D/px
cleanup() { pkill -INT -f "turnpike.mjs gateway --proxy-listen 127.0.0.1:81" ; pkill -f "$B/proxy-(floor|llhttp|undici|node-http).js"; kill $(cat $D/up/nginx.pid $D/px/nginx.pid 2>/dev/null) 2>/dev/null; sleep 1; rm -rf $D; }
trap cleanup EXIT
setsid taskset -c 1 nginx -p $D/up -e $D/up/err.log -c $B/nginx-upstream.conf -g 'worker_processes 1;' >/dev/null 2>&1 </dev/null &
setsid taskset -c 0 nginx -p $D/px -e $D/px/err.log -c $B/nginx-proxy.conf -g 'worker_processes 1;' >/dev/null 2>&1 </dev/null &
PORT=8099 setsid taskset -c 0 node $B/proxy-floor.js >/dev/null 2>&1 </dev/null &
PORT=8097 setsid taskset -c 0 node $B/proxy-llhttp.js >/dev/null 2>&1 </dev/null &
PORT=8091 MODE=stream setsid taskset -c 0 node $B/proxy-undici.js >/dev/null 2>&1 </dev/null &
PORT=8090 setsid taskset -c 0 node $B/proxy-node-http.js >/dev/null 2>&1 </dev/null &
i=0; tp=()
for v in "$@"; do
  i=$((i+1)); name=${v%%=*}; rest=${v#*=}; dir=${rest%%:*}; envs=""; [[ $rest == *:* ]] && envs=${rest#*:}
  [ -f $dir/dist/turnpike.mjs ] || (cd $dir && npm run build >/dev/null)
  (cd $dir && env $envs setsid taskset -c 0 node dist/turnpike.mjs gateway --proxy-listen 127.0.0.1:$((8100+i)) --admin-listen off --status-listen off --gui-listen off --log-level error --workers 1 --config $CFG >$D/$name.log 2>&1 </dev/null &)
  tp+=("$name:$((8100+i))")
done
for p in 8080 8099 8097 8091 8090 $(for t in "${tp[@]}"; do echo ${t#*:}; done); do
  for k in $(seq 60); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$HDR" localhost:$p/)" = 200 ] && break; sleep 0.5; done
done
# The process that serves: nginx's worker, the node proxies themselves, Turnpike's worker (not its primary).
worker_of() { for c in $(pgrep -P "$1"); do echo $c; done | head -1; }
targets=("nginx:8080:$(worker_of $(cat $D/px/nginx.pid))" "floor:8099:$(pgrep -f "$B/proxy-floor.js")" "llhttp-minimal:8097:$(pgrep -f "$B/proxy-llhttp.js")" "undici-stream:8091:$(pgrep -f "$B/proxy-undici.js")" "node-http:8090:$(pgrep -f "$B/proxy-node-http.js")")
# BASELINES="nginx floor" measures only those baselines (an A/B of Turnpike builds in less time).
if [ -n "${BASELINES:-}" ]; then
  kept=(); for t in "${targets[@]}"; do [[ " $BASELINES " == *" ${t%%:*} "* ]] && kept+=("$t"); done; targets=("${kept[@]}")
fi
for t in "${tp[@]}"; do
  port=${t#*:}; prim=$(pgrep -f "dist/turnpike.mjs gateway --proxy-listen 127.0.0.1:$port " | head -1)
  w=""; for c in $(pgrep -P $prim); do grep -q TURNPIKE_WORKER_INIT /proc/$c/environ 2>/dev/null && w=$c; done
  targets+=("${t%%:*}:$port:$w")
done
tick=$(getconf CLK_TCK); UPW=$(worker_of $(cat $D/up/nginx.pid))
for t in "${targets[@]}"; do IFS=: read -r n port pid <<<"$t"; taskset -c 1 wrk -t1 -c50 -d3s -H "$HDR" http://127.0.0.1:$port/ >/dev/null; done
# Every other round runs the proxies in reverse order: measured in a fixed order, two builds of
# the same code read up to 3.5 us a request apart, the second one lower.
for r in $(seq $R); do
  order=("${targets[@]}"); [ $((r % 2)) -eq 0 ] && for ((k=${#targets[@]}-1, j=0; k>=0; k--, j++)); do order[$j]=${targets[$k]}; done
  for t in "${order[@]}"; do
  IFS=: read -r n port pid <<<"$t"
  s0=$(awk '{print $14, $15}' /proc/$pid/stat); u0=$(awk '{print $14 + $15}' /proc/$UPW/stat)
  out=$(taskset -c 1 wrk -t1 -c50 -d5s -H "$HDR" http://127.0.0.1:$port/)
  s1=$(awk '{print $14, $15}' /proc/$pid/stat); u1=$(awk '{print $14 + $15}' /proc/$UPW/stat)
  echo "$n $s0 $s1 $(awk '/requests in/ {print $1}' <<<"$out") $(awk '/Requests\/sec/ {print $2}' <<<"$out") $u0 $u1" \
    | awk -v t=$tick '{printf "%s\t%.2f\t%.2f\t%s\t%.2f\n", $1, ($4-$2)*1e6/t/$6, ($5-$3)*1e6/t/$6, $7, ($9-$8)*1e6/t/$6}'
done; done > $D/rows.tsv
echo -e "proxy\tuser us/req\tsys us/req\ttotal\treq/s (proxy alone on its core)\tupstream nginx us/req"
for t in "${targets[@]}"; do n=${t%%:*}
  med() { awk -F'\t' -v n=$n -v c=$1 '$1==n {print $c}' $D/rows.tsv | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  u=$(med 2); s=$(med 3); q=$(med 4); echo -e "$n\t$u\t$s\t$(awk -v u=$u -v s=$s 'BEGIN {printf "%.1f", u+s}')\t$q\t$(med 5)"
done
