"""test_conformance.py: every provider passes the conformance suite.

The cases are in conformance.py, the per-provider drivers in drivers.py;
a new provider adds its driver and one class here.
"""

import unittest

import drivers
from conformance import ConformanceCases
from suite import WatcherCase


class DockerRegistryConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers.DockerFakeDriver


class HelmChartConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers.HelmHttpDriver


if __name__ == "__main__":
    unittest.main()
