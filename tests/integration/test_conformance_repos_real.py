"""test_conformance_repos_real.py: Npm (a real verdaccio) and HelmChart on
an OciHelmRepo (the real docker-registry) pass the conformance suite
(conformance.py), each behind the fault-injecting front of
tests/fakes/httpfront.py; drivers in drivers_repos.py.
"""

import unittest

import drivers_repos
from conformance import ConformanceCases
from suite import WatcherCase


class NpmConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.NpmDriver


class HelmOciConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_repos.HelmOciDriver


if __name__ == "__main__":
    unittest.main()
