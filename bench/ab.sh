#!/bin/bash
# bench/ab.sh ROUNDS name=DIR[:ENV=val] ...  A/B of Turnpike builds (e.g. git worktrees) in one run:
# all gateways warm at once on core 0 (ports 8001..), nginx proxy on :8080 as the reference,
# 5 s wrk runs alternated at 50 and 200 connections; prints medians. Pinned like bench.sh
# (proxies and upstream on core 0, wrk on core 1). DIR needs node_modules (symlink the main one).
# CFG=bench/configs/proxy-cache.yml picks another scenario config (default: plain.yml; a relative path is from the current directory, as in cpu.sh); HDR='apikey: key-alice-123'
# adds a request header (the key-auth configs).
# Example: git worktree add /tmp/old HEAD~3 && ln -s $PWD/node_modules /tmp/old/ && bench/ab.sh 3 old=/tmp/old new=$PWD
R=$1; shift
# nginx and haproxy install to /usr/sbin, which is not on every PATH (CI runs these as root).
export PATH="$PATH:/usr/sbin:/sbin"
HDR=${HDR:-X-Bench: 1}
B=$(cd "$(dirname "$0")" && pwd)/baseline; CFG=$(realpath -m "${CFG:-$B/../configs/plain.yml}"); [ -f "$CFG" ] || (cd "$B/.." && node --import tsx make-configs.ts >/dev/null)
D=$(mktemp -d); mkdir -p $D/up $D/px
setsid taskset -c 0 nginx -p $D/up -e $D/up/err.log -c $B/nginx-upstream.conf -g 'worker_processes 1;' >/dev/null 2>&1 </dev/null &
setsid taskset -c 0 nginx -p $D/px -e $D/px/err.log -c $B/nginx-proxy.conf -g 'worker_processes 1;' >/dev/null 2>&1 </dev/null &
i=0; names=(); pids=()
for v in "$@"; do
  i=$((i+1)); name=${v%%=*}; rest=${v#*=}; dir=${rest%%:*}; envs=""; [[ $rest == *:* ]] && envs=${rest#*:}
  (cd $dir && env $envs setsid taskset -c 0 node bin/turnpike.js gateway --proxy-listen 127.0.0.1:$((8000+i)) --admin-listen off --status-listen off --gui-listen off --log-level error --workers 1 --config $CFG >$D/$name.log 2>&1 </dev/null &)
  names+=("$name:$((8000+i))")
done
sleep 2
for n in "${names[@]}" "nginx:8080"; do p=${n#*:}; for k in $(seq 120); do c=$(curl -s -o /dev/null -w '%{http_code}' -H "$HDR" localhost:$p/); [ "$c" = 200 ] && break; sleep 0.5; done; taskset -c 1 wrk -t1 -c50 -d6s -H "$HDR" http://127.0.0.1:$p/ >/dev/null; done
# Every other round in reverse order: in a fixed order the builds' figures carry an order effect
# (bench/cpu.sh measured up to 3.5 us a request between two builds of the same code).
for r in $(seq $R); do
  order=("${names[@]}" "nginx:8080"); if [ $((r % 2)) -eq 0 ]; then rev=(); for ((k=${#order[@]}-1; k>=0; k--)); do rev+=("${order[$k]}"); done; order=("${rev[@]}"); fi
  for c in 50 200; do for n in "${order[@]}"; do
  out=$(taskset -c 1 wrk -t1 -c$c -d5s -H "$HDR" --latency http://127.0.0.1:${n#*:}/)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo -e "${n%%:*}\t$c\t$rps\t$p99"
done; done; done | tee $D/res.tsv
echo "--- medians (rps, p99 ms)"
for c in 50 200; do for n in "${names[@]}" "nginx:8080"; do
  nm=${n%%:*}; awk -F'\t' -v n=$nm -v c=$c '$1==n && $2==c {print $3, $4}' $D/res.tsv | sort -n | awk -v n=$nm -v c=$c '{r[NR]=$1; p[NR]=$2} END {m=int((NR+1)/2); print n, c, r[m]}' ; 
  awk -F'\t' -v n=$nm -v c=$c '$1==n && $2==c {print $4}' $D/res.tsv | sort -n | awk '{p[NR]=$1} END {m=int((NR+1)/2); print "   p99", p[m]}'
done; done
pkill -INT -f "turnpike.js gateway --proxy-listen 127.0.0.1:80"; kill $(cat $D/up/nginx.pid $D/px/nginx.pid 2>/dev/null) 2>/dev/null; sleep 2; pkill -f "nginx -p $D" ; rm -rf $D
