#!/usr/bin/env bash
# bench/cpu-pair.sh PAIRS A_DIR B_DIR: the CPU a request costs in build B minus build A, as the
# median of paired differences. Both builds run at once (1 worker each, alone on core 0 with
# nothing else; the upstream nginx and wrk on core 1, as bench/cpu.sh); each pair is two 3 s
# `wrk -c50` runs back to back, A first in odd pairs and B first in even ones. A pair's two runs
# see nearly the same host, so the differences vary far less than either build's own figures on
# these noisy VMs (session 16: single figures swung 44-82 us within one run; the differences'
# quartiles were 1.7-2.8 us apart in calm stretches, and an A/A run read -1.2 us when busy).
# CFG and HDR pick the scenario as in cpu.sh (default: plain.yml, 'X-Bench: 1').
# Example: CFG=bench/configs/key-auth-rate-limiting.yml HDR='apikey: key-alice-123' bench/cpu-pair.sh 30 /tmp/old $PWD
# CFG_B/HDR_B give build B a scenario of its own (two scenarios of one build: A_DIR = B_DIR), and
# UPCORE=0 puts the upstream nginx on core 0 beside the gateways, as in `npm run bench`'s rows.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
N=${1:?pairs}; A=${2:?A_DIR}; Bd=${3:?B_DIR}
B=$(cd "$(dirname "$0")" && pwd)/baseline; CFG=$(realpath -m "${CFG:-$B/../configs/plain.yml}"); HDR=${HDR:-X-Bench: 1}
CFG_B=$(realpath -m "${CFG_B:-$CFG}"); HDR_B=${HDR_B:-$HDR}; UPCORE=${UPCORE:-1}
[ -f "$CFG" ] && [ -f "$CFG_B" ] || (cd "$B/.." && node --import tsx make-configs.ts >/dev/null)
D=$(mktemp -d); mkdir -p $D/up
cleanup() { pkill -INT -o -f "turnpike.mjs gateway --proxy-listen 127.0.0.1:8131 "; pkill -INT -o -f "turnpike.mjs gateway --proxy-listen 127.0.0.1:8132 "; kill $(cat $D/up/nginx.pid 2>/dev/null) 2>/dev/null; sleep 1; rm -rf $D; }
trap cleanup EXIT
setsid taskset -c $UPCORE nginx -p $D/up -e $D/up/err.log -c $B/nginx-upstream.conf -g 'worker_processes 1;' >/dev/null 2>&1 </dev/null &
i=0
for dir in "$A" "$Bd"; do
  i=$((i+1)); cfg=$CFG; [ $i = 2 ] && cfg=$CFG_B
  [ -f $dir/dist/turnpike.mjs ] || (cd $dir && npm run build >/dev/null)
  (cd $dir && setsid taskset -c 0 node dist/turnpike.mjs gateway --proxy-listen 127.0.0.1:$((8130+i)) --admin-listen off --status-listen off --gui-listen off --log-level error --workers 1 --config $cfg >$D/$i.log 2>&1 </dev/null &)
done
hdr() { if [ $1 = 8132 ]; then echo "$HDR_B"; else echo "$HDR"; fi; }
for p in 8131 8132; do for k in $(seq 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$(hdr $p)" localhost:$p/)" = 200 ] && break; sleep 0.5; done; done
# The serving process: the worker, not the primary.
worker() { local prim; prim=$(pgrep -o -f "dist/turnpike.mjs gateway --proxy-listen 127.0.0.1:$1 "); for c in $(pgrep -P $prim); do grep -q TURNPIKE_WORKER_INIT /proc/$c/environ 2>/dev/null && echo $c; done; }
P1=$(worker 8131); P2=$(worker 8132); tick=$(getconf CLK_TCK)
for p in 8131 8132; do taskset -c 1 wrk -t1 -c50 -d3s -H "$(hdr $p)" http://127.0.0.1:$p/ >/dev/null; done
run() {
  local s0 s1 out n
  s0=$(awk '{print $14 + $15}' /proc/$2/stat)
  out=$(taskset -c 1 wrk -t1 -c50 -d3s -H "$(hdr $1)" http://127.0.0.1:$1/)
  s1=$(awk '{print $14 + $15}' /proc/$2/stat); n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$n" >> $D/n$1
  awk -v a=$s0 -v b=$s1 -v n=$n -v t=$tick 'BEGIN {printf "%.2f", (b - a) * 1e6 / t / n}'
}
for r in $(seq $N); do
  if [ $((r % 2)) -eq 1 ]; then a=$(run 8131 $P1); b=$(run 8132 $P2); else b=$(run 8132 $P2); a=$(run 8131 $P1); fi
  echo "$a $b"
done > $D/pairs
echo "A=$A B=$Bd CFG=$CFG CFG_B=$CFG_B UPCORE=$UPCORE pairs=$N (CPU µs a request of each build; B-A)"
awk '{printf "%s %s %.2f\n", $1, $2, $2 - $1}' $D/pairs | tr '\n' ';'; echo
awk '{print $2 - $1, $1, $2}' $D/pairs | sort -n | awk '{d[NR] = $1; a += $2; b += $3} END {printf "mean A %.2f  mean B %.2f  median(B-A) %.2f  quartiles %.2f .. %.2f\n", a / NR, b / NR, d[int((NR + 1) / 2)], d[int(NR / 4) + 1], d[int(3 * NR / 4)]}'
paste $D/n8131 $D/n8132 | awk '{a += $1; b += $2} END {printf "requests/s: A %.0f  B %.0f  B/A %.3f\n", a / NR / 3, b / NR / 3, b / a}'
