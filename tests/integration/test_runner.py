"""test_runner.py: the test runners count what they ran, honestly.

tests/run-all.sh and tests/integration/runner.py are pointed (UNIT_DIRS,
INTEGRATION_SUITES) at small suites made here: a Criterion binary with a
passing, a skipped and a disabled test, and a unittest file with a
passing test, a skipped one and a class skipped whole in setUpClass.
Every skip must be counted, not passed and not failed, and must say why;
the last line must be "N passed, N failed, N skipped" as .ci/run's
summary pattern expects; a failure still fails.  Built with ASan and
UBSan as `make check` builds build-asan/, a test that leaks, overflows a
buffer or an int fails, though Criterion alone counts a leak as a pass.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CRITERION = r"""
#include <criterion/criterion.h>
Test(demo, passes) { cr_assert(1); }
Test(demo, skips) { cr_skip_test("no %s here", "frobnicator"); }
Test(demo, disabled, .disabled = true) { cr_assert(0); }
"""

SANITIZED = r"""
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
static char *volatile kept;
Test(san, leaks) { char *p = malloc(100); memset(p, 1, 100); kept = p;
    kept = NULL; }
Test(san, overflows_an_int) { volatile int x = 0x7fffffff; x += 1; }
static volatile int four = 4;
Test(san, writes_past_the_end) { char *p = malloc(4); p[four] = 1;
    cr_assert_eq(p[four], 1); free(p); }
Test(san, clean) { kept = malloc(5); free(kept); }
"""

UNITTEST = '''
import unittest


class Some(unittest.TestCase):
    def test_passes(self):
        self.assertTrue(True)

    def test_skips(self):
        self.skipTest("needs a   quux\\nserver")


class Whole(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise unittest.SkipTest("no widgets on this host")

    def test_one(self):
        pass

    def test_two(self):
        pass
'''

FAILING = '''
import unittest


class Bad(unittest.TestCase):
    def test_fails(self):
        self.fail("on purpose")

    @unittest.skip("not today")
    def test_skipped(self):
        pass
'''


def ci_pattern():
    """The summary pattern .ci/run greps for."""
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        return re.search(r"grep -E '([^']*)'", f.read()).group(1)


class RunAll(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="aw-runner-")
        os.makedirs(os.path.join(cls.tmp, "tests"))
        source = os.path.join(cls.tmp, "demo.c")
        with open(source, "w") as f:
            f.write(CRITERION)
        subprocess.run(["cc", "-o", os.path.join(cls.tmp, "tests",
                                                 "test-demo"),
                        source, "-lcriterion"], check=True)
        os.makedirs(os.path.join(cls.tmp, "asan", "tests"))
        source = os.path.join(cls.tmp, "tests", "sanitized.c")
        with open(source, "w") as f:
            f.write(SANITIZED)
        subprocess.run(["cc", "-g", "-O1", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all",
                        "-fno-omit-frame-pointer", "-o",
                        os.path.join(cls.tmp, "asan", "tests",
                                     "test-sanitized"),
                        source, "-lcriterion"], check=True)
        for name, text in (("test_demo.py", UNITTEST),
                           ("test_bad.py", FAILING)):
            with open(os.path.join(cls.tmp, name), "w") as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def run_all(self, suites, unit_dirs=None):
        env = dict(os.environ, UNIT_DIRS=unit_dirs or self.tmp,
                   INTEGRATION_SUITES=" ".join(
                       os.path.join(self.tmp, s) for s in suites))
        out = subprocess.run(["sh", os.path.join(ROOT, "tests",
                                                 "run-all.sh")],
                             env=env, capture_output=True, text=True,
                             timeout=120)
        return out.returncode, out.stdout.splitlines()

    def test_skips_are_counted_with_their_reasons(self):
        rc, lines = self.run_all(["test_demo.py"])
        self.assertEqual(rc, 0, "\n".join(lines))
        self.assertEqual(lines[-1], "2 passed, 0 failed, 5 skipped")
        self.assertRegex(lines[-1], ci_pattern())
        unit = "unit test-demo (%s)" % self.tmp
        self.assertIn(unit + ": 1 passed, 0 failed, 2 skipped", lines)
        self.assertIn(unit + ": skipped demo::skips: no frobnicator here",
                      lines)
        self.assertIn(unit + ": skipped demo::disabled: Test is disabled",
                      lines)
        self.assertIn("integration test_demo: 1 passed, 0 failed, "
                      "3 skipped", lines)
        text = "\n".join(lines)
        self.assertRegex(text, r"\[skip \] Some\.test_skips \([0-9.]+s\): "
                         r"needs a quux server\n")
        self.assertRegex(text, r"\[skip \] setUpClass \(test_demo\.Whole\) "
                         r"\([0-9.]+s\): no widgets on this host\n")
        self.assertIn("integration test_demo: Tested: 4 | Passing: 1 | "
                      "Failing: 0 | Skipped: 3", lines)

    def test_a_failure_still_fails(self):
        rc, lines = self.run_all(["test_demo.py", "test_bad.py"])
        self.assertEqual(rc, 1, "\n".join(lines))
        self.assertEqual(lines[-1], "2 passed, 1 failed, 6 skipped")
        self.assertIn("integration test_bad: 0 passed, 1 failed, 1 skipped",
                      lines)
        self.assertRegex(lines[-1], ci_pattern())

    def test_sanitizer_findings_fail(self):
        asan = os.path.join(self.tmp, "asan")
        rc, lines = self.run_all([], unit_dirs=asan)
        text = "\n".join(lines)
        self.assertEqual(rc, 1, text)
        name = "unit test-sanitized (%s)" % asan
        # The int and the buffer abort their tests; the leak is found in
        # the log (Criterion counted it as passing).
        self.assertIn(name + ": 1 leak report(s) naming our code; counted "
                      "as failures", lines)
        self.assertIn(name + ": 1 passed, 3 failed, 0 skipped", lines)
        self.assertEqual(lines[-1], "1 passed, 3 failed, 0 skipped")
        self.assertIn("signed integer overflow", text)
        self.assertRegex(text, "heap-buffer-overflow|insufficient space")


if __name__ == "__main__":
    unittest.main()
