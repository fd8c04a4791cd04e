"""runner.py: run one integration suite and print its counts.

Usage: python3 tests/integration/runner.py tests/integration/test_NAME.py

Runs every unittest test in the file, prints one line per test as it ends
(so a slow or stuck test is visible) and finishes with

  integration test_NAME: Tested: N | Passing: N | Failing: N | Skipped: N

which tests/run-all.sh parses.  A skipped test prints its reason on its
line ("[skip ] Class.test (0.0s): why"); a class or module skipped whole
(SkipTest in setUpClass or setUpModule) counts every test in it.  Exit
status 0 only when every test passed or was skipped.  A suite that cannot
even be imported counts as one failing test.
"""

import importlib.util
import os
import sys
import time
import traceback
import unittest


def flatten(suite):
    """Every test case in a (nested) suite."""
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


class LineResult(unittest.TestResult):
    """Prints "ok", "FAIL", "ERROR" or "skip" per test, with the details.

    sizes: how many tests each class ("module.Class") and each module
    holds, to count a skip of a whole class or module.
    """

    def __init__(self, sizes):
        super().__init__()
        self.passed = 0
        self.skipped_tests = 0
        self.sizes = sizes
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
        if isinstance(test, unittest.TestCase):
            self.skipped_tests += 1
            name = test.id().split(".", 1)[-1]
        else:
            # setUpClass (mod.Class) or setUpModule (mod) raised SkipTest.
            name = str(test)
            scope = name[name.find("(") + 1:name.rfind(")")]
            self.skipped_tests += self.sizes.get(scope, 1)
        print("[skip ] %s (%.1fs): %s" % (
            name, time.monotonic() - self.started,
            " ".join(str(reason).split()) or "no reason given"),
            flush=True)


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
    result = LineResult({})
    try:
        suite = unittest.defaultTestLoader.loadTestsFromModule(
            load(argv[1]))
        for test in flatten(suite):
            cls = type(test)
            for scope in ("%s.%s" % (cls.__module__, cls.__qualname__),
                          cls.__module__):
                result.sizes[scope] = result.sizes.get(scope, 0) + 1
        tested = suite.countTestCases()
        suite.run(result)
        # A failing setUpClass reports one error for the whole class.
        failing = len(result.failures) + len(result.errors)
        tested = max(tested, result.passed + failing)
    except Exception:
        traceback.print_exc()
        tested, failing = 1, 1
    skipped = min(result.skipped_tests, tested - result.passed - failing)
    # What neither passed nor was skipped failed, run or not.
    failing = tested - result.passed - skipped
    print("integration %s: Tested: %d | Passing: %d | Failing: %d | "
          "Skipped: %d" % (name, tested, result.passed, failing, skipped),
          flush=True)
    return 0 if failing == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
