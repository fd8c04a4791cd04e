#!/bin/sh
# bench/queues/run.sh: issue 14's queue benchmark, per queue sink the
# watcher (LMDB outbox, dispatcher, sink, acks) against a bare client of
# the same library with the same confirmation, in the same run and against
# the same server: redis-server and nats-server -js started here on free
# loopback ports in a temporary directory, Kafka as librdkafka's mock
# cluster inside the benchmark.  Arguments go to bench-queue (-n events,
# -r rounds); QUEUES="redis nats" runs only those.  Run from anywhere;
# not part of make check.
set -e
cd "$(dirname "$0")/../.."
make --no-print-directory build/libaw.a >/dev/null
PKGS="libevent libcurl hiredis yaml-0.1 libcjson openssl libpcre2-8 lmdb \
libxml-2.0 libnats rdkafka"
mkdir -p build/bench
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iwatcher \
    $(pkg-config --cflags $PKGS) -o build/bench/bench-queue \
    bench/queues/bench-queue.c build/libaw.a $(pkg-config --libs $PKGS) \
    -lpthread -lm

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "nothing on port $1" >&2; exit 1; }
		sleep 0.05
	done
}

dir=$(mktemp -d /tmp/bench-queues.XXXXXX)
rport=$(free_port)
nport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --dir "$dir" --save "" \
    --appendonly no --logfile "$dir/redis.log" &
rpid=$!
nats-server -a 127.0.0.1 -p "$nport" -js -sd "$dir/nats" \
    -l "$dir/nats.log" &
npid=$!
trap 'kill $rpid $npid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
wait_port "$rport"
wait_port "$nport"

echo "machine: $(uname -srm); $(nproc) cpus; \
$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); \
$(redis-server --version | cut -d' ' -f1-3); nats-server $(nats-server --version | cut -d' ' -f2); \
libnats $(pkg-config --modversion libnats); librdkafka $(pkg-config --modversion rdkafka)"
for q in ${QUEUES:-redis nats kafka}; do
	case $q in
	redis)	build/bench/bench-queue "$@" redis "redis://127.0.0.1:$rport/0" ;;
	nats)	build/bench/bench-queue "$@" nats "nats://127.0.0.1:$nport" ;;
	kafka)	build/bench/bench-queue "$@" kafka ;;
	esac
done
