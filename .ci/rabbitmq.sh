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
  port=
  for _ in $(seq 1 100); do
    candidate=$(( (RANDOM % 15000) + 20000 ))
    if port_free "$candidate" && port_free $((candidate + 10000)); then port=$candidate; break; fi
  done
  [ -n "$port" ] || { echo "no free port for RabbitMQ" >&2; exit 1; }
  node="lanes-$$-$RANDOM@localhost"
  vhost="lanes-$(date +%s)-$RANDOM"
  mkdir -p "$dir"
  echo "$node" > "$dir/node"
  as_root chown -R rabbitmq:rabbitmq "$dir"
  as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT=$((port + 10000)) \
    RABBITMQ_NODENAME="$node" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/sbin/rabbitmq-server -detached > /dev/null 2>&1
  if ! as_root /usr/sbin/rabbitmqctl -q -n "$node" wait "$dir/pid" --timeout 120 > /dev/null 2>&1; then
    echo "RabbitMQ node $node did not start; its log: $dir/log" >&2
    exit 1
  fi
  as_root /usr/sbin/rabbitmqctl -q -n "$node" add_vhost "$vhost" > /dev/null
  as_root /usr/sbin/rabbitmqctl -q -n "$node" set_permissions -p "$vhost" guest '.*' '.*' '.*' > /dev/null
  echo "amqp://guest:guest@127.0.0.1:$port/$vhost"
  ;;
stop)
  if [ -f "$dir/node" ]; then
    as_root /usr/sbin/rabbitmqctl -q -n "$(cat "$dir/node")" stop "$dir/pid" > /dev/null 2>&1 || true
  fi
  as_root rm -rf "$dir"
  ;;
*)
  echo "usage: rabbitmq.sh start|stop DIR" >&2
  exit 2
  ;;
esac
