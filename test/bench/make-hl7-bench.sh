#!/bin/bash
# make-hl7-bench.sh OUT.pcap [CONNECTIONS] [MESSAGES_PER_CONNECTION]
# A capture of >= 100,000 HL7 v2 messages (plus their ACKs) between real peers:
# python3-hl7's mllp_send -> the corpus' mllp_server.py (create_ack), in network namespaces
# on a SPAN-like bridge (fixtures/corpus/scripts/lib.sh). Run as root; nothing leaves the namespaces.
set -u
OUT=${1:?usage: make-hl7-bench.sh OUT.pcap [CONNECTIONS] [MESSAGES]}
CONNS=${2:-10}
PER=${3:-10000}
HERE=$(cd "$(dirname "$0")/../../fixtures/corpus/scripts" && pwd)
export C77_SCRIPTS=$HERE C77_RUN=${C77_RUN:-/tmp/muvakt-hl7-bench}
. "$HERE/lib.sh"; . "$HERE/scen.sh"
PY=/usr/bin/python3
trap net_teardown EXIT
mkdir -p "$C77_RUN"
FNR=$($PY "$HERE/fnr.py" 14071985 212)
each=$((PER / 4))
$PY "$HERE/hl7msgs.py" "$C77_RUN/bench.hl7" adt_a01:$each orm_o01:$each oru_r01:$each siu_s12:$((PER - 3 * each)) --fnr "$FNR" --ctl-prefix HB --ctl-start 1
net_init
host_add his 10.77.20.30/16 02:77:14:00:00:1e
host_add eng 10.77.20.40/16 02:77:14:00:00:28
svc_mllp eng 2575 AA RIS RAD
ip netns exec "$C77_SW" tcpdump -Z root -i span1 -n -s 0 -B 131072 -w "$OUT" > "$C77_RUN/tcpdump.log" 2>&1 &
CAP=$!; echo $CAP >> "$C77_PIDS"
for i in $(seq 1 50); do grep -q "listening on" "$C77_RUN/tcpdump.log" && break; sleep 0.1; done
sleep 0.3
pids=()
for c in $(seq 1 "$CONNS"); do
  nsx his mllp_send --loose -f "$C77_RUN/bench.hl7" -p 2575 10.77.20.40 > /dev/null &
  pids+=($!)
  # at most 4 senders at a time on 2 cores
  if [ ${#pids[@]} -ge 4 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait "${pids[@]}"
sleep 1
kill -INT $CAP; wait $CAP 2>/dev/null
grep -E "captured|dropped" "$C77_RUN/tcpdump.log" >&2
ls -l "$OUT" >&2
