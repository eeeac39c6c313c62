#!/bin/bash
# 1 against 2 schedulers: simple_server --schedulers S, loadgen chat 50 x 200, 3 runs each, alternating.
cd "$(dirname "$0")/.."
for round in 1 2 3; do
 for s in 1 2; do
  port=$((21200 + s + round*10))
  target/release/examples/simple_server --port $port --schedulers $s > /dev/null 2>/tmp/ss.err &
  pid=$!
  sleep 0.5
  out=$(target/release/examples/loadgen chat 127.0.0.1:$port 50 200 2>&1 | tail -1)
  cpu=$(awk '{print $14+$15}' /proc/$pid/stat)
  echo "schedulers $s round $round: $out (server CPU ticks $cpu)"
  kill -TERM $pid; wait $pid
 done
done
