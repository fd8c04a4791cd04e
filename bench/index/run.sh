#!/bin/sh
# bench/index/run.sh: build bench-index.c against build/libaw.a and run
# issue 5's benchmark 3 parts that need no network: bytes per known tag,
# and callgrind instructions per steady-state poll of a 10,000-tag listing
# (-p 11 minus -p 1, over 10: start-up and the index build cancel out).
set -e
cd "$(dirname "$0")/../.."
make --no-print-directory build/libaw.a >/dev/null
PKGS="libevent libcurl hiredis yaml-0.1 libcjson openssl libpcre2-8 lmdb libxml-2.0"
mkdir -p build/bench
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iwatcher \
    $(pkg-config --cflags $PKGS) -o build/bench/bench-index \
    bench/index/bench-index.c build/libaw.a $(pkg-config --libs $PKGS) -lm

echo "memory per known tag (target <= 24 bytes):"
./build/bench/bench-index memory -n 100000 | sed 's/^/  /'

instructions() {
	out=build/bench/callgrind.poll.$1
	valgrind --tool=callgrind --callgrind-out-file="$out" \
	    ./build/bench/bench-index poll -n 10000 -p "$1" >/dev/null 2>&1
	sed -n 's/^summary: //p' "$out"
}
one=$(instructions 1)
eleven=$(instructions 11)
again=$(instructions 11)
echo "CPU per steady-state poll of 10,000 tags (parse 10 pages, seen set, diff):"
echo "  callgrind: 1 poll $one, 11 polls $eleven (again: $again) instructions"
echo "  per poll: $(( (eleven - one) / 10 )) instructions," \
    "$(( (eleven - one) / 10 / 10000 )) per tag"
