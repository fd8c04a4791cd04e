#!/bin/sh
# run-suite.sh: run one test suite for tests/run-all.sh and report it.
#
# Usage: sh tests/run-suite.sh RESULTS ID SUITE
#   SUITE: a Criterion unit binary (build/tests/test-*, or another build
#   directory's) or an integration suite (tests/integration/test_*.py).
#
# run-all.sh runs several of these at once.  Each keeps its output to
# itself while it runs and, when the suite ends, shows it in one piece
# (under a lock, so that two suites' lines never mix): for a unit binary
# the failures and skips only, for an integration suite everything, then
# the line "NAME: N passed, N failed, N skipped".  The three numbers also
# go to RESULTS/ID.sum (ID: the suite's place in run-all.sh's list), which
# run-all.sh adds up.
#
# A Criterion binary's "Synthesis:" line is parsed; a crash, a non-zero
# exit with no failure counted, or a missing synthesis counts as a
# failure.  It runs --verbose so that its "[SKIP] suite::test: why" lines
# can be counted and shown.  An integration suite runs through
# tests/integration/runner.py ("[skip ] Class.test (0.0s): why", and
# "Skipped: N" in its summary).
#
# Under the sanitizers an AddressSanitizer or UBSan report aborts the
# test's process, which Criterion counts as a failure.  A leak is reported
# only when that process exits, after its result, so each LeakSanitizer
# report whose stack names a file of ours turns one passing test into a
# failing one here.  A leak report with no frame of ours is Criterion's own
# runner (it leaks 48 bytes now and then): noted, not counted.
set -u

results=$1
id=$2
suite=$3
PYTHON=/usr/bin/python3
SUITE_TIMEOUT=600
log="$results/$id.log"
show="$results/$id.show"
: >"$show"

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

# count NAME RC PASSING FAILING SKIPPED: this suite's line and sum file.
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
	echo "$p $f $s" >"$results/$id.sum"
	echo "$1: $p passed, $f failed, $s skipped"
}

run_unit() {
	dir=$(dirname "$(dirname "$suite")")
	name="unit $(basename "$suite")"
	[ "$dir" = build ] || name="$name ($dir)"
	timeout "$SUITE_TIMEOUT" "$suite" --verbose >"$log" 2>&1
	rc=$?
	san=$(sanitizer_reports)
	if [ "$rc" -ne 0 ] || [ "$san" -gt 0 ]; then
		grep -av '^\[\(RUN \|PASS\)\]' "$log"
	elif grep -q 'ERROR: LeakSanitizer' "$log"; then
		echo "$name: a leak report inside Criterion's runner" \
		    "only (no frame of ours); not counted"
	fi
	skips=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -a '^\[SKIP\] ' |
	    sed "s|^\[SKIP\] |$name: skipped |")
	passes=$(field Passing)
	fails=$(field Failing)
	if [ "$san" -gt 0 ] && [ -n "$passes" ]; then
		echo "$name: $san leak report(s) naming our code;" \
		    "counted as failures"
		# Criterion counted each of those tests as passing.
		[ "$passes" -ge "$san" ] && passes=$((passes - san))
		fails=$((${fails:-0} + san))
	fi
	nskips=0
	[ -z "$skips" ] || nskips=$(printf '%s\n' "$skips" | wc -l)
	count "$name" "$rc" "$passes" "$fails" "$nskips"
	[ -z "$skips" ] || printf '%s\n' "$skips"
}

run_integration() {
	name="integration $(basename "$suite" .py)"
	timeout "$SUITE_TIMEOUT" "$PYTHON" tests/integration/runner.py \
	    "$suite" >"$log" 2>&1
	rc=$?
	cat "$log"
	count "$name" "$rc" "$(field Passing)" "$(field Failing)" \
	    "$(field Skipped)"
}

LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export LSAN_OPTIONS UBSAN_OPTIONS

case "$suite" in
*.py)	run_integration >"$show" ;;
*)	run_unit >"$show" ;;
esac
flock "$results/lock" cat "$show"
exit 0
