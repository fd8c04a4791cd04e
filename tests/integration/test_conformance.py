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


class EcrConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers.EcrDriver


class AmazonS3Conformance(ConformanceCases, WatcherCase):
    DRIVER = drivers.AmazonS3Driver


class AmazonMachineImageConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers.AmazonMachineImageDriver


if __name__ == "__main__":
    unittest.main()
