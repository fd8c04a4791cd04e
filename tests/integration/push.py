"""push.py: push a small image to a registry from the command line.

Usage: python3 tests/integration/push.py URL REPO:TAG [LABEL=VALUE ...]

Prints the manifest digest.  Used by deploy/demo.sh, so the demo pushes
through the registry HTTP API exactly as the integration tests do, with no
docker daemon.  Anonymous registries only.
"""

import sys

from harness import RegistryClient


def main(argv):
    if len(argv) < 3 or ":" not in argv[2]:
        print("usage: push.py URL REPO:TAG [LABEL=VALUE ...]",
              file=sys.stderr)
        return 2
    repo, tag = argv[2].rsplit(":", 1)
    labels = dict(arg.split("=", 1) for arg in argv[3:] if "=" in arg)
    print(RegistryClient(argv[1]).push(repo, tag, labels=labels))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
