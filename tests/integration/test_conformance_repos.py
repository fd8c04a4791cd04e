"""test_conformance_repos.py: the repository managers of issue 12 that
run against fakes pass the conformance suite (conformance.py); their
drivers are in drivers_repos.py.  Npm and OCI Helm charts, which run
against real servers, are in test_conformance_repos_real.py.
"""

import unittest

import drivers_repos
from conformance import ConformanceCases
from suite import WatcherCase


class NexusDockerConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.NexusDockerDriver


class NexusMavenConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.NexusMavenDriver


class ArtifactoryDockerConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.ArtifactoryDockerDriver


class ArtifactoryAqlConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.ArtifactoryAqlDriver


class GithubPackagesConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.GithubPackagesDriver


if __name__ == "__main__":
    unittest.main()
