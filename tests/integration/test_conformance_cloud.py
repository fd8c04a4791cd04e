"""test_conformance_cloud.py: the Google and Azure providers pass the
conformance suite (conformance.py), with the drivers of drivers_cloud.py.

A driver may give the watcher more environment (env(): the Google
service-account key behind the suite's password secret).
"""

import unittest

import drivers_cloud
from conformance import ConformanceCases
from suite import WatcherCase


class CloudCases(ConformanceCases):
    """The cases, with the driver's own environment for the watcher."""

    def env(self):
        env = super().env()
        env.update(getattr(self.driver, "env", dict)())
        return env


class GcrConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.GcrDriver


class GoogleArtifactRegistryConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.GoogleArtifactRegistryDriver


class GoogleArtifactRegistryNpmConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.GoogleArtifactRegistryNpmDriver


class GoogleCloudStorageConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.GoogleCloudStorageDriver


class AcrConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.AcrDriver


class AzureArtifactsConformance(CloudCases, WatcherCase):
    DRIVER = drivers_cloud.AzureArtifactsDriver


if __name__ == "__main__":
    unittest.main()
