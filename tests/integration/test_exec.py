"""test_exec.py: the Exec sink in the running daemon.

A real docker-registry as the source; each test writes a shell script
into its temp dir, runs the watcher with an Exec sink on it (and a Stdout
sink, whose lines give the event ids), pushes a tag and checks what the
script saw and what the dispatcher made of its exit:

  exit 0    delivered; the script got the event JSON on stdin and CE_ID,
            CE_TYPE, CE_SUBJECT in its environment, the secret only by
            secretEnv, nothing on its command line
  exit 75   retried, then delivered when the script succeeds
  exit 1    dead-lettered with the last line of its stderr as the reason
  timeout   retried; the script's forked child is killed with its group
"""

import json
import os
import re
import unittest

from harness import (Registry, Watcher, Workdir, docker_connector,
                     docker_source, logfmt)

WORKDIR = None
REGISTRY = None
SECRET = "exec-it-secret-value-3141"
ENV = {"AW_IT_EXEC_SECRET": SECRET}


def setUpModule():
    global WORKDIR, REGISTRY
    WORKDIR = Workdir()
    REGISTRY = Registry(WORKDIR, "anonymous")
    REGISTRY.start()


def tearDownModule():
    REGISTRY.stop()
    WORKDIR.cleanup()


def process_gone(pid):
    """Gone, or a zombie nobody reaps (PID 1 in a container may not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in ("Z", "X")


class ExecCase(unittest.TestCase):
    def setUp(self):
        self.name = self.id().rsplit(".", 1)[-1].replace("test_", "")
        self.repo = "exec/" + self.name.replace("_", "-")
        self.dir = WORKDIR.sub("exec-" + self.name)
        self.client = REGISTRY.client()

    def script(self, body):
        path = os.path.join(self.dir, "hook.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nD=%s\n%s\n" % (self.dir, body))
        os.chmod(path, 0o755)
        return path

    def start(self, body, **spec):
        sink = {"identifier": "run", "type": "Exec",
                "spec": dict({"command": [self.script(body), "--from",
                                          "watcher"]}, **spec),
                "maxAttempts": 5}
        config = {
            "store": {"type": "lmdb",
                      "path": WORKDIR.sub("state-" + self.name)},
            "secrets": {"deploy_token": "env:AW_IT_EXEC_SECRET"},
            "connectors": [docker_connector("local", REGISTRY.url)],
            "sources": [docker_source("app", "local", self.repo)],
            "sinks": [sink, {"identifier": "console", "type": "Stdout"}],
        }
        self.client.push(self.repo, "0.1.0")
        watcher = Watcher(WORKDIR, config, env=ENV)
        watcher.start()
        self.addCleanup(watcher.kill)
        REGISTRY.wait_listings(self.repo, 2)
        return watcher

    def event_ids(self, watcher, count=1):
        def printed():
            lines = [l for l in watcher.stdout if l.startswith("{")]
            return lines if len(lines) >= count else None
        lines = watcher.wait_for(printed, 30, "%d stdout events" % count)
        return [json.loads(l)["id"] for l in lines]

    def test_success_gets_event_and_environment(self):
        watcher = self.start(
            'cat > "$D/in.$CE_ID"\n'
            'printf "%s|%s|%s|%s|%s" "$CE_ID" "$CE_TYPE" "$CE_SUBJECT" '
            '"$DEPLOY_TOKEN" "$*" > "$D/env.$CE_ID"\n',
            secretEnv={"DEPLOY_TOKEN": "deploy_token"})
        self.client.push(self.repo, "1.0.0")
        [event_id] = self.event_ids(watcher)
        watcher.wait_log(r"msg=\"dispatch: delivered\" sink=run id=%s"
                         % event_id)
        with open(os.path.join(self.dir, "in." + event_id)) as f:
            event = json.load(f)
        self.assertEqual(event["id"], event_id)
        self.assertEqual(event["data"]["version"], "1.0.0")
        with open(os.path.join(self.dir, "env." + event_id)) as f:
            fields = f.read().split("|")
        self.assertEqual(fields, [event_id, "artifact.created",
                                  self.repo + ":1.0.0", SECRET,
                                  "--from watcher"])
        for line in watcher.logs:
            self.assertNotIn(SECRET, line)
        watcher.stop()

    def test_exit_75_is_retried_then_delivered(self):
        watcher = self.start(
            'if [ ! -e "$D/tried" ]; then touch "$D/tried"; '
            'echo "lock held, later" >&2; exit 75; fi\n'
            'cat > /dev/null\n')
        self.client.push(self.repo, "2.0.0")
        [event_id] = self.event_ids(watcher)
        [line] = watcher.wait_log(r"will retry\" sink=run id=%s" % event_id)
        self.assertEqual(logfmt(line)["error"],
                         "exec run: exit 75: lock held, later")
        watcher.wait_log(r"msg=\"dispatch: delivered\" sink=run id=%s"
                         % event_id, timeout=30)
        self.assertEqual(watcher.matching(r"dead-lettered"), [])
        watcher.stop()

    def test_exit_1_is_dead_lettered_with_stderr(self):
        watcher = self.start('echo "working..." >&2\n'
                             'echo "error: environment prod is frozen" >&2\n'
                             'exit 1\n')
        self.client.push(self.repo, "3.0.0")
        [event_id] = self.event_ids(watcher)
        [line] = watcher.wait_log(r"event dead-lettered\" sink=run id=%s"
                                  % event_id)
        self.assertEqual(logfmt(line)["reason"],
                         "exec run: exit 1: error: environment prod is "
                         "frozen")
        self.assertEqual(watcher.matching(r"will retry\" sink=run"), [])
        watcher.stop()

    def test_timeout_kills_the_group(self):
        watcher = self.start(
            'sleep 300 &\necho $! > "$D/child.tmp"\n'
            'mv "$D/child.tmp" "$D/child.$CE_ID"\nsleep 300\n',
            timeout="500ms")
        self.client.push(self.repo, "4.0.0")
        [event_id] = self.event_ids(watcher)
        [line] = watcher.wait_log(r"will retry\" sink=run id=%s" % event_id)
        self.assertEqual(logfmt(line)["error"], "exec run: timed out after "
                         "500 ms, process group killed")
        with open(os.path.join(self.dir, "child." + event_id)) as f:
            child = int(f.read())
        watcher.wait_for(lambda: process_gone(child), 10,
                         "the forked child %d to be killed" % child)
        watcher.stop()


if __name__ == "__main__":
    unittest.main()
