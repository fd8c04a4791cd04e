#!/bin/sh
# run.sh: run every libFuzzer build in build/fuzz for FUZZ_SECONDS each
# (default 60), seeded with the recorded responses and configs under
# tests/fixtures.  New inputs go to a temporary corpus; a crash leaves its
# reproducer in build/fuzz/ and makes this script fail.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_SECONDS:-60}
status=0
for f in build/fuzz/fuzz-*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	case "$name" in
	fuzz-docker)	seeds="tests/fixtures/docker" ;;
	fuzz-config)	seeds="tests/fixtures/config config" ;;
	fuzz-chat)	seeds="tests/fixtures/chat" ;;
	fuzz-aws)	seeds="tests/fixtures/aws" ;;
	fuzz-azure)	seeds="tests/fixtures/azure" ;;
	*)		seeds="" ;;
	esac
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/aw-$name.XXXXXX")
	for d in $seeds; do
		find "$d" -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.xml' -o -name '*.html' \) \
		    -exec cp {} "$corpus/" \;
	done
	echo "== $name: ${secs}s"
	if "$f" -max_total_time="$secs" -max_len=65536 \
	    -artifact_prefix=build/fuzz/"$name"- "$corpus" \
	    >build/fuzz/"$name".log 2>&1; then
		tail -n 1 build/fuzz/"$name".log
	else
		echo "$name: FAILED (see build/fuzz/$name.log)"
		tail -n 20 build/fuzz/"$name".log
		status=1
	fi
	rm -rf "$corpus"
done
exit $status
