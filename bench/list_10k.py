"""list_10k.py: benchmark 2 of issue 5, one repository of 10,000 tags.

Times `artifact-watcher versions -c FILE SOURCE` (maxTags 10000: list every
page, parse, order; it prints 10,000 lines) against Debian's
`skopeo list-tags --tls-verify=false docker://127.0.0.1:PORT/bench/r10000`
on the same fake repository.  Whole commands, start-up included, as a user
runs them; the two alternate round by round and the medians are compared.
Ratio = skopeo median / watcher median (target >= 5).

    python3 bench/list_10k.py [--rounds N]
"""

import argparse
import os
import subprocess
import sys

import benchlib

REPO = "bench/r10000"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    server = benchlib.fake()
    work = benchlib.Workdir()
    try:
        conf = work.file("list.yaml", benchlib.config_text(
            server.port, [("big", REPO)], os.path.join(work.path, "state")))
        watcher = [benchlib.WATCHER, "versions", "-c", conf, "big"]
        skopeo = ["skopeo", "list-tags", "--tls-verify=false",
                  "docker://127.0.0.1:%d/%s" % (server.port, REPO)]
        # Both must really list the 10,000 tags.
        out = subprocess.run(watcher, capture_output=True, text=True,
                             check=True).stdout
        if len(out.splitlines()) != 10000:
            raise RuntimeError("watcher listed %d lines" %
                               len(out.splitlines()))
        out = subprocess.run(skopeo, capture_output=True, text=True,
                             check=True).stdout
        if out.count('"v') != 10000:
            raise RuntimeError("skopeo listed %d tags" % out.count('"v'))
        times = benchlib.alternate({"watcher": watcher, "skopeo": skopeo},
                                   args.rounds)
    finally:
        server.stop()
        work.cleanup()
    w = benchlib.median(times["watcher"])
    s = benchlib.median(times["skopeo"])
    print("list 10,000 tags (%s), medians of %d alternating runs:" %
          (REPO, args.rounds))
    print("  watcher versions: %.1f ms (min %.1f, max %.1f)" % (
        w * 1e3, min(times["watcher"]) * 1e3, max(times["watcher"]) * 1e3))
    print("  skopeo list-tags: %.1f ms (min %.1f, max %.1f)" % (
        s * 1e3, min(times["skopeo"]) * 1e3, max(times["skopeo"]) * 1e3))
    print("  ratio skopeo / watcher: %.2f (target >= 5)" % (s / w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
