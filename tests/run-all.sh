#!/bin/sh
# run-all.sh: run every test suite and print one summary line.
#
# The suites are the Criterion unit binaries <dir>/tests/test-* of each
# build directory in UNIT_DIRS (default "build"; suites from another one
# carry its name, "(build-asan)") and the integration suites
# tests/integration/test_*.py (INTEGRATION_SUITES: the suite files to run;
# unset, all of them; test_runner.py points both at small suites of its
# own).  Each runs through tests/run-suite.sh, which shows its output and
# its line "NAME: N passed, N failed, N skipped" when it ends.  Then comes
# exactly one last line "N passed, N failed, N skipped" over all of them.
# Exits 1 when anything failed.  `make check` builds everything first; run
# from anywhere.
#
# Suites run AW_TEST_JOBS at a time (default: twice the CPUs, plus one).
# Most of a suite's time is spent waiting on its servers and the watcher's
# poll intervals, not computing (a 2-core machine stays near a load of 1
# with five at once), and every suite starts its servers on free loopback
# ports in a directory of its own, so they do not meet.  Measured on 2
# cores: every suite one after the other 23 minutes, 3 at a time 430 s,
# 5 at a time 314 s.
# The integration suites start first (the conformance suites, the longest,
# ahead of the rest), the unit binaries fill in behind them.
set -u

cd "$(dirname "$0")/.." || exit 1
jobs=${AW_TEST_JOBS:-$((2 * $(nproc) + 1))}
results=$(mktemp -d "${TMPDIR:-/tmp}/aw-run-all.XXXXXX")
trap 'rm -rf "$results"' EXIT INT TERM

# suites: every suite to run, one a line, in the order they start.
suites() {
	all=${INTEGRATION_SUITES-tests/integration/test_*.py}
	for t in $all; do
		case "$(basename "$t")" in
		test_conformance*) [ -f "$t" ] && echo "$t" ;;
		esac
	done
	for t in $all; do
		case "$(basename "$t")" in
		test_conformance*) ;;
		*) [ -f "$t" ] && echo "$t" ;;
		esac
	done
	for dir in ${UNIT_DIRS:-build}; do
		for t in "$dir"/tests/test-*; do
			[ -x "$t" ] && echo "$t"
		done
	done
}

# Each line "ID SUITE", ID its place in the list.
suites | awk '{ print NR, $0 }' >"$results/list"
: >"$results/lock"
xargs -P "$jobs" -n 2 sh tests/run-suite.sh "$results" <"$results/list"

passed=0
failed=0
skipped=0
while read -r id suite; do
	if [ -s "$results/$id.sum" ]; then
		read -r p f s <"$results/$id.sum"
	else
		echo "$suite: did not finish; counted as 1 failure"
		p=0 f=1 s=0
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done <"$results/list"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
