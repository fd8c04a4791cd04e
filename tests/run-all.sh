#!/bin/sh
# run-all.sh: run every test suite and print one summary line.
#
# First each Criterion unit binary build/tests/test-* (its "Synthesis:"
# line is parsed; a crash, a non-zero exit with no failure counted, or a
# missing synthesis counts as a failure; it runs --verbose so that its
# "[SKIP] suite::test: why" lines can be counted and shown), then each
# integration suite tests/integration/test_*.py through
# tests/integration/runner.py ("[skip ] Class.test (0.0s): why", and
# "Skipped: N" in its summary).  One line per suite, then exactly one last
# line "N passed, N failed, N skipped".  Exits 1 when anything failed.
# `make check` builds everything first; run from anywhere.
#
# Under the sanitizers (build-asan) an AddressSanitizer or UBSan report
# aborts the test's process, which Criterion counts as a failure.  A leak
# is reported only when that process exits, after its result, so each
# LeakSanitizer report whose stack names a file of ours turns one passing
# test into a failing one here.  A leak report with no frame of ours is
# Criterion's own runner (it leaks 48 bytes now and then): noted, not
# counted, and LSan's exit status is turned off for it.
#
# UNIT_DIRS: the build directories whose tests/test-* run (default
# "build"); suites from another one carry its name, "(build-asan)".
# INTEGRATION_SUITES: the suite files to run (unset: all of them);
# test_runner.py points both at small suites of its own.
set -u

cd "$(dirname "$0")/.." || exit 1
PYTHON=/usr/bin/python3
SUITE_TIMEOUT=600
passed=0
failed=0
skipped=0
log=$(mktemp "${TMPDIR:-/tmp}/aw-run-all.XXXXXX")
trap 'rm -f "$log" "$log.rc" "$log.skips"' EXIT INT TERM

# count NAME RC PASSING FAILING SKIPPED: add one suite's result to the
# totals.
count() {
	p=${3:-0}
	f=${4:-0}
	s=${5:-0}
	if [ -z "${3:-}" ]; then
		echo "$1: no summary line (crashed?); counted as 1 failure"
		f=1
	elif [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$1: exit status $2 with no failing test; counted as 1 failure"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	echo "$1: $p passed, $f failed, $s skipped"
}

# field NAME: the number after "NAME: " in the last summary line of $log.
field() {
	grep -a 'Tested: ' "$log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g' |
	    sed -n "s/.*$1: *\([0-9][0-9]*\).*/\1/p"
}

# sanitizer_reports: how many leak reports in $log are ours (above).
sanitizer_reports() {
	awk '
	/ERROR: LeakSanitizer/ { leak = 1; ours = 0; next }
	leak && /(watcher|providers|sinks|config|tests)\/[^ :]*\.[ch]:[0-9]/ {
		ours = 1
	}
	leak && /^SUMMARY: / { if (ours) n++; leak = 0; next }
	END { print n + 0 }' "$log"
}

LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export LSAN_OPTIONS UBSAN_OPTIONS

for dir in ${UNIT_DIRS:-build}; do
	for t in "$dir"/tests/test-*; do
		[ -x "$t" ] || continue
		name="unit $(basename "$t")"
		[ "$dir" = build ] || name="$name ($dir)"
		timeout "$SUITE_TIMEOUT" "$t" --verbose >"$log" 2>&1
		rc=$?
		san=$(sanitizer_reports)
		if [ "$rc" -ne 0 ] || [ "$san" -gt 0 ]; then
			grep -av '^\[\(RUN \|PASS\)\]' "$log"
		elif grep -q 'ERROR: LeakSanitizer' "$log"; then
			echo "$name: a leak report inside Criterion's runner" \
			    "only (no frame of ours); not counted"
		fi
		sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -a '^\[SKIP\] ' |
		    sed "s|^\[SKIP\] |$name: skipped |" >"$log.skips"
		passes=$(field Passing)
		fails=$(field Failing)
		if [ "$san" -gt 0 ] && [ -n "$passes" ]; then
			echo "$name: $san leak report(s) naming our code;" \
			    "counted as failures"
			# Criterion counted each of those tests as passing.
			[ "$passes" -ge "$san" ] && passes=$((passes - san))
			fails=$((${fails:-0} + san))
		fi
		count "$name" "$rc" "$passes" "$fails" \
		    "$(wc -l <"$log.skips" | tr -d ' ')"
		cat "$log.skips"
	done
done

for t in ${INTEGRATION_SUITES-tests/integration/test_*.py}; do
	[ -f "$t" ] || continue
	name="integration $(basename "$t" .py)"
	# Shown as it runs; the status travels through a file past the pipe.
	{
		timeout "$SUITE_TIMEOUT" "$PYTHON" tests/integration/runner.py \
		    "$t" 2>&1
		echo $? >"$log.rc"
	} | tee "$log"
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	count "$name" "$rc" "$(field Passing)" "$(field Failing)" \
	    "$(field Skipped)"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
