"""test_conformance_ci.py: the sources of issue 13 pass the conformance
suite.

The cases are in conformance.py, the drivers in drivers_ci.py: Bamboo and
Jenkins on the CI fake, Sftp and Smb on a real sshd and smbd,
CustomArtifact with a real script.  The sources that are not HTTP mix in
RecoveryCase, their own case for what retry_after proves over HTTP.
"""

import unittest

import drivers_ci
from conformance import ConformanceCases, RecoveryCase
from suite import WatcherCase


class BambooConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_ci.BambooDriver


class JenkinsConformance(ConformanceCases, WatcherCase):
    DRIVER = drivers_ci.JenkinsDriver


class SftpConformance(RecoveryCase, ConformanceCases, WatcherCase):
    DRIVER = drivers_ci.SftpDriver


class SmbConformance(RecoveryCase, ConformanceCases, WatcherCase):
    DRIVER = drivers_ci.SmbDriver


class CustomArtifactConformance(RecoveryCase, ConformanceCases,
                                WatcherCase):
    DRIVER = drivers_ci.CustomDriver


if __name__ == "__main__":
    unittest.main()
