"""runner.py: run one integration suite and print its counts.

Usage: python3 tests/integration/runner.py tests/integration/test_NAME.py

Runs every unittest test in the file, prints one line per test as it ends
(so a slow or stuck test is visible) and finishes with

  integration test_NAME: Tested: N | Passing: N | Failing: N

which tests/run-all.sh parses.  Exit status 0 only when every test passed.
A suite that cannot even be imported counts as one failing test.
"""

import importlib.util
import os
import sys
import time
import traceback
import unittest


class LineResult(unittest.TestResult):
    """Prints "ok", "FAIL" or "ERROR" per test, with the traceback."""

    def __init__(self):
        super().__init__()
        self.passed = 0
        self.started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.started = time.monotonic()

    def report(self, test, word, detail=None):
        print("[%-5s] %s (%.1fs)" % (word, test.id().split(".", 1)[-1],
                                    time.monotonic() - self.started),
              flush=True)
        if detail:
            print(detail.rstrip(), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self.report(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.report(test, "FAIL", self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self.report(test, "ERROR", self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.report(test, "skip", reason)


def load(path):
    """Import the suite file as a module (its directory on sys.path)."""
    directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # unittest finds setUpModule/tearDownModule through sys.modules.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv):
    if len(argv) != 2:
        print("usage: runner.py tests/integration/test_NAME.py",
              file=sys.stderr)
        return 2
    name = os.path.splitext(os.path.basename(argv[1]))[0]
    result = LineResult()
    try:
        suite = unittest.defaultTestLoader.loadTestsFromModule(
            load(argv[1]))
        tested = suite.countTestCases()
        suite.run(result)
        # A failing setUpClass reports one error for the whole class.
        failing = len(result.failures) + len(result.errors)
        tested = max(tested, result.passed + failing)
    except Exception:
        traceback.print_exc()
        tested, failing = 1, 1
    print("integration %s: Tested: %d | Passing: %d | Failing: %d"
          % (name, tested, result.passed, tested - result.passed), flush=True)
    return 0 if result.passed == tested and failing == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
