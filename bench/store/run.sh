#!/bin/sh
# bench/store/run.sh: build and run issue 3's store benchmarks, after a line
# of machine facts for bench/RESULTS.md: the LMDB store vs bare LMDB, then
# the Redis store vs a bare hiredis pipeline against a redis-server started
# here (AOF on, once with appendfsync everysec as docs/store.md advises and
# once with always).  Run from the top of the tree; arguments go to the LMDB
# benchmark (-n versions, -r rounds, -d directory for the state: put it on
# the disk you mean to measure); REDIS_ARGS (e.g. "-r 5") to the Redis one.
set -e
cd "$(dirname "$0")/../.."
make --no-print-directory build/libaw.a >/dev/null
PKGS="libevent libcurl hiredis yaml-0.1 libcjson openssl libpcre2-8 lmdb libxml-2.0"
mkdir -p build/bench
for b in lmdb redis; do
	cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iwatcher \
	    $(pkg-config --cflags $PKGS) -o build/bench/bench-store-$b \
	    bench/store/bench-store-$b.c build/libaw.a \
	    $(pkg-config --libs $PKGS) -lm
done

dir=/tmp
prev=
for a in "$@"; do
	[ "$prev" = "-d" ] && dir=$a
	prev=$a
done
echo "machine: $(uname -srm); $(nproc) cpus; \
$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); \
lmdb $(pkg-config --modversion lmdb); \
$(redis-server --version | cut -d' ' -f1-3); \
hiredis $(pkg-config --modversion hiredis); \
state on $(df -T "$dir" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
./build/bench/bench-store-lmdb "$@"

# A redis-server of our own on a free port, its AOF in a temporary directory.
redis_dir=$(mktemp -d "$dir/bench-redis-XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --dir "$redis_dir" \
    --appendonly yes --appendfsync everysec --save "" \
    --logfile "$redis_dir/redis.log" --daemonize yes \
    --pidfile "$redis_dir/redis.pid"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1; rm -rf "$redis_dir"' EXIT INT TERM
until redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
echo "redis-server AOF in $(df -T "$redis_dir" | awk 'NR == 2 { print $2 }')"
for mode in everysec always; do
	redis-cli -p "$port" config set appendfsync "$mode" >/dev/null
	./build/bench/bench-store-redis -u "redis://127.0.0.1:$port/0" \
	    ${REDIS_ARGS:-}
done
