#!/bin/sh
# run.sh: run every libFuzzer build in build/fuzz for FUZZ_SECONDS each
# (default 60), seeded with the recorded responses and configs under
# tests/fixtures (docker/hub holds Hub API pages for the fuzzer only;
# headers/ holds header values).  fuzz-docker takes a selector byte (which
# parser) before the body; each recorded body is seeded once behind every
# selector, so every parser starts from every body.  New inputs go to a
# temporary corpus; a crash leaves its reproducer in build/fuzz/ and makes
# this script fail.
# A harness may print what each of its parsers saw ("inputs per parser"):
# that line is shown too.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_SECONDS:-60}
status=0
for f in build/fuzz/fuzz-*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	selectors=""
	case "$name" in
	fuzz-docker)	seeds="tests/fixtures/docker"; selectors="0 1 2 3 4" ;;
	fuzz-config)	seeds="tests/fixtures/config config" ;;
	fuzz-chat)	seeds="tests/fixtures/chat" ;;
	fuzz-helm)	seeds="tests/fixtures/helm" ;;
	fuzz-aws)	seeds="tests/fixtures/aws" ;;
	fuzz-ci)	seeds="tests/fixtures/ci" ;;
	fuzz-custom)	seeds="tests/fixtures/custom" ;;
	fuzz-files)	seeds="tests/fixtures/files" ;;
	fuzz-headers)	seeds="tests/fixtures/headers" ;;
	fuzz-npm)	seeds="tests/fixtures/npm" ;;
	fuzz-github)	seeds="tests/fixtures/github" ;;
	fuzz-nexus)	seeds="tests/fixtures/nexus" ;;
	fuzz-artifactory) seeds="tests/fixtures/artifactory" ;;
	fuzz-helm-oci)	seeds="tests/fixtures/helm-oci tests/fixtures/docker/manifest" ;;
	fuzz-google)	seeds="tests/fixtures/google" ;;
	fuzz-azure)	seeds="tests/fixtures/azure" ;;
	*)		seeds="" ;;
	esac
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/aw-$name.XXXXXX")
	i=0
	for d in $seeds; do
		[ -d "$d" ] || continue
		for s in $(find "$d" -type f \( -name '*.json' -o \
		    -name '*.yaml' -o -name '*.xml' -o -name '*.bin' -o \
		    -name '*.txt' -o -name '*.html' \)); do
			i=$((i + 1))
			if [ -z "$selectors" ]; then
				cp "$s" "$corpus/$i"
				continue
			fi
			for sel in $selectors; do
				{ printf "\\$(printf %03o "$sel")"; cat "$s"; } \
				    >"$corpus/$i-$sel"
			done
		done
	done
	echo "== $name: ${secs}s"
	if "$f" -max_total_time="$secs" -max_len=65536 \
	    -artifact_prefix=build/fuzz/"$name"- "$corpus" \
	    >build/fuzz/"$name".log 2>&1; then
		grep -a -E '^Done |inputs per parser' build/fuzz/"$name".log
	else
		echo "$name: FAILED (see build/fuzz/$name.log)"
		tail -n 20 build/fuzz/"$name".log
		status=1
	fi
	rm -rf "$corpus"
done
exit $status
