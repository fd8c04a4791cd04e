#!/bin/sh
# bench/store/run.sh: build and run issue 3's store benchmark (LMDB store vs
# bare LMDB), after a line of machine facts for bench/RESULTS.md.  Run from
# the top of the tree; arguments go to the benchmark (-n versions, -r rounds,
# -d directory for the state: put it on the disk you mean to measure).
set -e
cd "$(dirname "$0")/../.."
make --no-print-directory build/libaw.a >/dev/null
PKGS="libevent libcurl hiredis yaml-0.1 libcjson openssl libpcre2-8 lmdb libxml-2.0"
mkdir -p build/bench
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iwatcher \
    $(pkg-config --cflags $PKGS) -o build/bench/bench-store-lmdb \
    bench/store/bench-store-lmdb.c build/libaw.a $(pkg-config --libs $PKGS) -lm

dir=/tmp
prev=
for a in "$@"; do
	[ "$prev" = "-d" ] && dir=$a
	prev=$a
done
echo "machine: $(uname -srm); $(nproc) cpus; \
$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); \
lmdb $(pkg-config --modversion lmdb); \
state on $(df -T "$dir" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
./build/bench/bench-store-lmdb "$@"
