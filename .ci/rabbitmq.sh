#!/usr/bin/env bash
# A throwaway RabbitMQ node (Debian's rabbitmq-server) on loopback, for tests and the Messaging sample: its own
# node name, port, data folder and vhost, so runs never share state.
#   bash .ci/rabbitmq.sh start DIR   starts it; prints amqp://guest:guest@127.0.0.1:PORT/VHOST once it accepts connections
#   bash .ci/rabbitmq.sh stop DIR    stops it and deletes DIR
# Needs root (or passwordless sudo): the server runs as the rabbitmq user, which must own DIR.
set -euo pipefail
cmd=${1:?usage: rabbitmq.sh start|stop DIR}
dir=${2:?usage: rabbitmq.sh start|stop DIR}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$cmd" in
start)
  if [ ! -x /usr/sbin/rabbitmq-server ]; then
    echo "rabbitmq-server is not installed (./test.sh installs it)" >&2
    exit 3
  fi
  # A node that fails to start (seen once in CI: no log written, so a failure at launch, not a slow boot) is
  # tried again on a fresh port and node name; each failed attempt's own output is printed, so nothing is hidden.
  node=
  notes=$(mktemp -d)   # each attempt's own output, kept outside DIR (which the rabbitmq user owns)
  trap 'rm -rf "$notes"' EXIT
  for attempt in 1 2 3; do
    port=
    for _ in $(seq 1 100); do
      candidate=$(( (RANDOM % 15000) + 20000 ))
      if port_free "$candidate" && port_free $((candidate + 10000)); then port=$candidate; break; fi
    done
    [ -n "$port" ] || { echo "no free port for RabbitMQ" >&2; exit 1; }
    try="lanes-$$-$RANDOM@localhost"
    mkdir -p "$dir"
    echo "$try" > "$dir/node"
    as_root chown -R rabbitmq:rabbitmq "$dir"
    as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT=$((port + 10000)) \
      RABBITMQ_NODENAME="$try" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/pid" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      /usr/sbin/rabbitmq-server -detached > "$notes/start.out" 2>&1 || true
    # The wait is bounded by rabbitmqctl's own --timeout; timeout(1) also ends it if the node never writes its pid file.
    if as_root timeout 150 /usr/sbin/rabbitmqctl -q -n "$try" wait "$dir/pid" --timeout 120 > "$notes/wait.out" 2>&1; then
      node=$try
      break
    fi
    {
      echo "RabbitMQ node $try did not start (attempt $attempt of 3):"
      tail -n 20 "$notes/start.out" "$notes/wait.out" 2>/dev/null || true
      find "$dir/log" -name '*.log' -exec tail -n 20 {} + 2>/dev/null || true
    } >&2
    # A node that never came up stops at once; timeout(1) only guards against the hang seen in CI.
    as_root timeout 60 /usr/sbin/rabbitmqctl -q -n "$try" stop > /dev/null 2>&1 || true
    as_root rm -rf "$dir/mnesia" "$dir/log" "$dir/pid"
  done
  if [ -z "$node" ]; then
    echo "RabbitMQ did not start in 3 attempts (the output of each is above)" >&2
    exit 1
  fi
  vhost="lanes-$(date +%s)-$RANDOM"
  as_root /usr/sbin/rabbitmqctl -q -n "$node" add_vhost "$vhost" > /dev/null
  as_root /usr/sbin/rabbitmqctl -q -n "$node" set_permissions -p "$vhost" guest '.*' '.*' '.*' > /dev/null
  echo "amqp://guest:guest@127.0.0.1:$port/$vhost"
  ;;
stop)
  if [ -f "$dir/node" ]; then
    # With the pid file, stop waits for the process to end; without one (a node that never started) it would wait
    # for ever, so it is passed only when present, and timeout(1) bounds the whole stop.
    pidfile=()
    [ -f "$dir/pid" ] && pidfile=("$dir/pid")
    as_root timeout 120 /usr/sbin/rabbitmqctl -q -n "$(cat "$dir/node")" stop "${pidfile[@]}" > /dev/null 2>&1 || true
  fi
  as_root rm -rf "$dir"
  ;;
*)
  echo "usage: rabbitmq.sh start|stop DIR" >&2
  exit 2
  ;;
esac
