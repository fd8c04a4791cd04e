"""conformance.py: the provider conformance suite (issue 8).

Every provider runs the same cases against its fake or real server; what
differs per provider is a driver: how to start the server, write the
connector and source blocks, make a thing to watch with some versions,
add a version, re-point one, cut the listing into pages, demand
credentials, and inject faults.  A new provider adds one Driver subclass
(in tests/integration/drivers.py) and one line in test_conformance.py:

    class TestMyProvider(ConformanceCases, WatcherCase):
        DRIVER = drivers.MyDriver

The cases (each with its own watcher, LMDB state and webhook):

  baseline        the first poll records what exists and emits nothing
  created         a new version -> one artifact.created, fields of its kind
  updated         a re-pointed version -> artifact.updated + previousDigest
  cap             maxTags is respected and the truncation is flagged
  long listing    three or more pages are followed (FEATURE pages), or
                  one request reads it whole where the API has no pages
                  (a directory of many files, a script's long answer)
  auth            right credentials give events, wrong ones fail with a
                  clear cause: after a challenge and one retry (FEATURE
                  auth), or sent up front with no retry, and the right
                  ones work afterwards (FEATURE auth_upfront)
  retry_after     a 429 with Retry-After is waited out, nothing lost
                  (FEATURE http_faults)
  faults          each fault of the driver (HTTP: garbage, HTML,
                  truncated and oversized bodies) fails only that source,
                  with one clear log line per failed poll
  identity        a source pointed elsewhere re-baselines silently

and, for the suites that mix RecoveryCase in (the sources that are not
HTTP, whose retry_after case cannot exist):

  recovery        a poll failing (a script's exit 1, a missing directory)
                  logs one clear line per failed poll; a version published
                  meanwhile is created once the fault is lifted

Feature flags: what a driver's source has is FEATURES | PROTOCOL_FEATURES.
FEATURES (per driver):
  pages           the listing is paged; missing (Helm's index.yaml, a
                  directory, a script) the paging case becomes "one request
                  reads the long listing whole"
  repoint         a version can change its digest in place
  auth            the server challenges (401) and the client retries once
  auth_upfront    credentials go with the first request (a header, an SSH
                  or SMB login): no challenge, no retry
PROTOCOL_FEATURES (default HTTP_FEATURES; a non-HTTP driver sets its own):
  http_faults     HTTP statuses and bodies: 429 with Retry-After, HTML,
                  truncated and oversized bodies (BAD_BODIES)
  listing_log     listings() sees every listing request with its status
A case whose feature is missing is skipped with the reason (runner.py then
counts it as skipped, not passed).  A driver without http_faults names its
protocol's own faults in FAULTS.
A listing that holds names beyond the target's versions (npm's dist-tags)
names them in Driver.extra_names.
DENIED and wrong_env() say how a driver's wrong credentials look;
WHOLE_REQUESTS how many requests read an unpaged listing.
"""

import json

from harness import logfmt

PASSWORD_ENV = "AW_CONFORMANCE_PASSWORD"
PASSWORD = "conformance-pass-5678"
USERNAME = "conformance-user"
SECRETS = {"conformance_pwd": "env:" + PASSWORD_ENV}

# What every HTTP source has (see the docstring).
HTTP_FEATURES = frozenset(("http_faults", "listing_log"))


class Driver:
    """One provider under the suite: override what your server needs.

    A *target* is one thing a source watches (a repository, a chart, a
    bucket prefix), named by the case; the driver maps the name to its
    server's shapes.  Digests are what the provider's events carry, or
    None when the driver cannot know them in advance.
    """

    SOURCE_TYPE = None          # the source `type:`
    KIND = None                 # data.kind of its events
    # "pages": the listing can be paged; "repoint": a version can change
    # its digest in place; "auth": credentials are demanded by a
    # challenge; "auth_upfront": they go with the first request.
    FEATURES = frozenset(("pages", "repoint", "auth"))
    # What the protocol has: HTTP statuses and bodies, a request log.
    PROTOCOL_FEATURES = HTTP_FEATURES
    PAGE_SIZE = 10              # versions per page when paged
    # Versions of the long listing (None: PAGE_SIZE * 2 + 5).
    LONG_LISTING = None
    # The faults of the faults case: {kind: what the cause says}; None is
    # BAD_BODIES (the driver must have http_faults then).
    FAULTS = None
    # RecoveryCase: a fault that fails every listing of its target until
    # clear_fault() lifts it.
    RECOVERY_FAULT = None
    # What a poll refused for wrong credentials says (None: the default
    # of its kind of auth).
    DENIED = None
    # Requests of a poll that reads an unpaged listing whole.
    WHOLE_REQUESTS = 1
    # Watch fields a case adds to every source (e.g. a digest check period).
    WATCH = {}

    def has(self, feature):
        return feature in self.FEATURES or feature in self.PROTOCOL_FEATURES

    def faults(self):
        """{fault: regex of the failed poll's cause} for the faults case."""
        if self.FAULTS is not None:
            return self.FAULTS
        assert self.has("http_faults"), "a driver without HTTP names FAULTS"
        return BAD_BODIES

    def secrets(self):
        """Secrets the driver's blocks name besides conformance_pwd."""
        return {}

    def version_of(self, target, version):
        """The version the provider reports for the case's name (a CI
        server numbers its builds: the driver maps names to numbers)."""
        return version

    def start(self, workdir):
        """Start the server(s) once for the suite."""

    def stop(self):
        """Stop them; True when they ended cleanly."""
        return True

    def reset(self):
        """Forget every target, fault and credential (before each case)."""

    # Shapes.
    def target(self, name, versions, pages=False, auth=False):
        """Make target `name` holding versions (in that order).

        pages: its listing comes in pages of PAGE_SIZE.  auth: it answers
        only with USERNAME/PASSWORD.  Returns the target handle.
        """
        raise NotImplementedError

    def add(self, target, version):
        """Publish a new version; its digest (or None)."""
        raise NotImplementedError

    def repoint(self, target, version):
        """Publish other content under an existing version; new digest."""
        raise NotImplementedError

    def digest(self, target, version):
        """The digest events carry for version now."""
        raise NotImplementedError

    def extra_names(self, target):
        """Names target's listing holds beyond its versions (npm's
        dist-tags: `latest` always)."""
        return []

    def wrong_env(self):
        """The watcher's environment that makes its credentials wrong."""
        return {PASSWORD_ENV: "not-the-password"}

    def ready_to_repoint(self, case, watcher, source, target, version):
        """Wait until the watcher knows version's digest (default: the
        listing carries digests, so the baseline is enough)."""

    # Config blocks.
    def connector(self, identifier, target, auth=False, password_ref=None):
        raise NotImplementedError

    def source(self, identifier, connector, target):
        raise NotImplementedError

    # Faults and the request log.
    def fault(self, target, fault, count=-1, **params):
        """fault: "429" (retry_after), "garbage", "html", "truncate",
        "huge", on target's listing; or one of the driver's FAULTS."""
        raise NotImplementedError

    def clear_fault(self, target):
        """Lift the faults of target (RecoveryCase)."""
        raise NotImplementedError

    def listings(self, target):
        """The listing requests of target seen so far, oldest first:
        [{"t": unix seconds, "status": int, "auth": scheme or None}]
        (FEATURE listing_log; a listing that is not HTTP says 200 when it
        succeeded)."""
        raise NotImplementedError

    # What events look like.
    def subject(self, target, version):
        raise NotImplementedError

    def check_fields(self, case, data, target, version):
        """Assert the kind's own fields of an event's data."""


# What a failed poll's cause says for each bad body (any provider).
BAD_BODIES = {
    "garbage": r"(?i)invalid|not (JSON|YAML|an index|XML)|parse",
    "html": r"(?i)HTML",
    "truncate": r"(?i)truncat|partial|closed|transfer|short",
    "huge": r"(?i)exceed|too (large|big)|body",
}


class ConformanceCases:
    """The cases; mix into a suite.WatcherCase with DRIVER set."""

    DRIVER = None
    HOOK_SECRET = "conformance-hook-secret"
    ENV = {PASSWORD_ENV: PASSWORD}
    WORKDIR_PREFIX = "aw-conf-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.driver = cls.DRIVER()
        cls.driver.start(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        ok = cls.driver.stop()
        super().tearDownClass()
        assert ok, "the %s server did not stop cleanly" % cls.__name__

    def setUp(self):
        super().setUp()
        self.driver.reset()
        self.n = 0

    # ------------------------------------------------------------ helpers

    # Why a case cannot exist without a feature.
    MISSING = {
        "repoint": "no version can change in place",
        "http_faults": "its protocol is not HTTP: no 429 nor Retry-After, "
                       "no HTML or truncated body (its FAULTS instead)",
    }

    def needs(self, feature):
        if not self.driver.has(feature):
            self.skipTest("%s has no %s: %s" % (
                self.driver.SOURCE_TYPE, feature,
                self.MISSING.get(feature, "not in its FEATURES")))

    def driver_wait(self, predicate, what, timeout=20.0):
        """Wait for a condition on the driver's server."""
        self.hook.wait_for(predicate, timeout, what)

    def name(self, what):
        """A target name unique in the suite run."""
        self.n += 1
        return "%s-%s-%d" % (what, self.driver.SOURCE_TYPE.lower(), self.n)

    def blocks(self, source_id, target, auth=False, **watch):
        """(connector, source) blocks for one source on one target."""
        conn = self.driver.connector(
            "c-" + source_id, target, auth=auth,
            password_ref="conformance_pwd" if auth else None)
        src = self.driver.source(source_id, "c-" + source_id, target)
        src.setdefault("interval", "1s")
        src.update(self.driver.WATCH)
        src.update(watch)
        return conn, src

    def secrets(self):
        secrets = dict(SECRETS)
        secrets.update(self.driver.secrets())
        return secrets

    def conf(self, sources, connectors, **kw):
        """config() with the suite's secrets; connectors may hold None
        (a source type without one)."""
        return self.config(sources, [c for c in connectors if c],
                           secrets=self.secrets(), **kw)

    def run_one(self, source_id, target, auth=False, state=None, env=None,
                **watch):
        conn, src = self.blocks(source_id, target, auth, **watch)
        store = {"type": "lmdb", "path": state} if state else None
        return self.start(self.conf([src], [conn], store=store), env=env)

    def no_other_complaints(self, watcher, source, what):
        """One line per failed poll: no other warning or error about the
        source than the failed polls themselves."""
        noisy = [l for l in self.source_lines(watcher, source,
                                              r"level=(warn|error)")
                 if 'msg="poll failed"' not in l]
        self.assertEqual(noisy, [], what)

    def assert_event(self, delivery, kind, source, target, version,
                     digest=None, previous=None):
        event = delivery["event"]
        self.assertTrue(delivery["signature_ok"], "bad signature")
        self.assertEqual(event["type"], "artifact." + kind)
        self.assertEqual(event["source"],
                         "/artifact-watcher/sources/" + source)
        self.assertEqual(event["subject"],
                         self.driver.subject(target, version))
        data = event["data"]
        self.assertEqual(data["sourceId"], source)
        self.assertEqual(data["sourceType"], self.driver.SOURCE_TYPE)
        self.assertEqual(data["version"],
                         self.driver.version_of(target, version))
        if "kind" in data or self.driver.KIND != "container":
            self.assertEqual(data.get("kind"), self.driver.KIND)
        if digest is not None:
            self.assertEqual(data["digest"], digest)
        if kind == "updated":
            self.assertIsNotNone(previous)
            self.assertEqual(data["previousDigest"], previous)
            self.assertNotEqual(data["digest"], previous)
        self.driver.check_fields(self, data, target, version)

    # -------------------------------------------------------------- cases

    def test_baseline_is_silent(self):
        target = self.driver.target(self.name("base"),
                                    ["1.0.0", "1.1.0", "2.0.0"])
        watcher = self.run_one("base", target)
        self.wait_polls(watcher, "base", 3)
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")
        watcher.wait_log(r"recording a silent baseline.*source=base ")
        watcher.stop()

    def test_new_version_is_created(self):
        target = self.driver.target(self.name("new"), ["1.0.0", "1.1.0"])
        watcher = self.run_one("new", target)
        self.wait_polls(watcher, "new", 2)
        digest = self.driver.add(target, "1.2.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "new", target, "1.2.0",
                          digest)
        self.wait_more_polls(watcher, "new")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()
        self.assert_no_secret_logged(watcher, PASSWORD)

    def test_repointed_version_is_updated(self):
        self.needs("repoint")
        target = self.driver.target(self.name("moved"), ["1.0.0", "stable"])
        watcher = self.run_one("moved", target)
        self.wait_polls(watcher, "moved", 2)
        self.driver.ready_to_repoint(self, watcher, "moved", target,
                                     "stable")
        old = self.driver.digest(target, "stable")
        new = self.driver.repoint(target, "stable")
        self.assertNotEqual(old, new)
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "updated", "moved", target, "stable",
                          new, previous=old)
        self.wait_more_polls(watcher, "moved")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        watcher.stop()

    def test_cap_is_respected_and_flagged(self):
        versions = ["1.0.%d" % i for i in range(25)]
        target = self.driver.target(self.name("cap"), versions)
        conn, src = self.blocks("cap", target, maxTags=10)
        watcher = self.new_watcher(self.conf([src], [conn]))
        out = watcher.run_cli("versions", "-c", watcher.write_config(),
                              "cap", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        listed = json.loads(out.stdout)
        self.assertLessEqual(len(listed["versions"]), 10)
        self.assertGreater(len(listed["versions"]), 0)
        self.assertTrue(listed["truncated"], "truncation not flagged")
        names = [self.driver.version_of(target, v) for v in versions]
        for v in listed["versions"]:
            self.assertIn(v["name"], names +
                          self.driver.extra_names(target))

        watcher.start()
        self.wait_polls(watcher, "cap", 2)
        watcher.wait_log(r'msg="listing truncated at maxTags".*source=cap ')
        self.assertEqual(self.hook.deliveries, [])
        watcher.stop()

    def test_long_listing_is_read_whole(self):
        """Three or more pages are followed (FEATURE pages); a provider
        whose API has no pages (Helm's index.yaml, a directory of many
        files, a script's answer) reads the same long listing in one
        request."""
        size = self.driver.PAGE_SIZE
        paged = self.driver.has("pages")
        versions = ["3.0.%d" % i for i in range(self.driver.LONG_LISTING or
                                                size * 2 + 5)]
        target = self.driver.target(self.name("paged"), versions,
                                    pages=paged)
        watcher = self.run_one("paged", target)
        self.wait_polls(watcher, "paged", 2)
        self.assertEqual(self.hook.deliveries, [])
        line = self.source_lines(watcher, "paged",
                                 r'msg="poll listed"')[0]
        self.assertEqual(int(logfmt(line)["listed"]), len(versions) +
                         len(self.driver.extra_names(target)))
        first = [r for r in self.driver.listings(target)
                 if r["status"] == 200] if \
            self.driver.has("listing_log") else None
        if paged:
            self.assertGreaterEqual(len(first), 3)
        else:
            if first is not None:
                self.assertGreaterEqual(len(first), 1)
            self.assertEqual(int(logfmt(line)["requests"]),
                             self.driver.WHOLE_REQUESTS)
        digest = self.driver.add(target, "9.9.9")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "paged", target, "9.9.9",
                          digest)
        watcher.stop()

    def auth_kind(self):
        """"challenge", "upfront", or skip the case."""
        if self.driver.has("auth"):
            return "challenge"
        if self.driver.has("auth_upfront"):
            return "upfront"
        self.skipTest("%s declares neither auth (a challenge) nor "
                      "auth_upfront (credentials sent up front)"
                      % self.driver.SOURCE_TYPE)

    def test_auth_right_credentials_work(self):
        """challenge: a 401, credentials, one retry.  upfront: the first
        request carries them and is answered.  Events follow."""
        kind = self.auth_kind()
        target = self.driver.target(self.name("auth"), ["1.0.0"], auth=True)
        watcher = self.run_one("auth", target, auth=True)
        self.wait_polls(watcher, "auth", 2)
        self.assertEqual(self.source_lines(watcher, "auth",
                                           r'msg="poll failed"'), [])
        if self.driver.has("listing_log"):
            seen = self.driver.listings(target)
            if kind == "challenge":
                self.assertEqual(seen[0]["status"], 401, seen[:3])
                self.assertIsNone(seen[0]["auth"])
            else:
                self.assertEqual(seen[0]["status"], 200, seen[:3])
                self.assertEqual([r for r in seen if r["auth"] is None or
                                  r["status"] == 401], [], seen)
            ok = [r for r in seen if r["status"] == 200]
            self.assertTrue(ok and ok[0]["auth"] is not None, seen[:4])
        digest = self.driver.add(target, "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "auth", target, "1.1.0",
                          digest)
        watcher.stop()
        self.assert_no_secret_logged(watcher, PASSWORD)

    def test_auth_wrong_credentials_fail(self):
        """challenge: one challenge and one retry per poll at most.
        upfront: one attempt per poll, one clear line per failed poll; the
        right credentials then work on the same state, nothing lost."""
        kind = self.auth_kind()
        target = self.driver.target(self.name("deny"), ["1.0.0"], auth=True)
        state = self.state_dir("deny-%s" % self.driver.SOURCE_TYPE)
        watcher = self.run_one("deny", target, auth=True, state=state,
                               env=self.driver.wrong_env())
        [line] = watcher.wait_log(r'msg="poll failed".*source=deny ')
        denied = self.driver.DENIED or (
            r"401|[Uu]nauthori|denied" if kind == "challenge"
            else r"(?i)401|403|unauthori|denied|refused|authenticat")
        self.assertRegex(logfmt(line)["error"], denied)
        failed = len(self.source_lines(watcher, "deny",
                                       r'msg="poll failed"'))
        if self.driver.has("listing_log"):
            listed = len(self.driver.listings(target))
            # Per poll: a challenge and one retry at most, or one request
            # (plus the poll that may be running now).
            per_poll = 2 if kind == "challenge" else 1
            self.assertLessEqual(listed, per_poll * (failed + 1))
        watcher.stop()
        self.assert_no_secret_logged(watcher, PASSWORD, "not-the-password")
        if kind == "challenge":
            return
        self.no_other_complaints(watcher, "deny", "wrong credentials")
        watcher = self.run_one("deny", target, auth=True, state=state)
        self.wait_polls(watcher, "deny", 2)
        self.assertEqual(self.source_lines(watcher, "deny",
                                           r'msg="poll failed"'), [])
        self.assertEqual(self.hook.deliveries, [], "the baseline emitted")
        digest = self.driver.add(target, "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "deny", target, "1.1.0",
                          digest)
        watcher.stop()
        self.assert_no_secret_logged(watcher, PASSWORD)

    def test_429_retry_after_is_honoured(self):
        self.needs("http_faults")
        target = self.driver.target(self.name("slow"), ["1.0.0"])
        watcher = self.run_one("slow", target)
        self.wait_polls(watcher, "slow", 2)
        before = len(self.driver.listings(target))
        self.driver.fault(target, "429", count=1, retry_after="2")
        digest = self.driver.add(target, "1.1.0")
        [delivery] = self.hook.wait_accepted(1, timeout=30)
        self.assert_event(delivery, "created", "slow", target, "1.1.0",
                          digest)
        seen = self.driver.listings(target)[before:]
        limited = [i for i, r in enumerate(seen) if r["status"] == 429]
        self.assertEqual(len(limited), 1, seen)
        after = seen[limited[0] + 1:]
        self.assertTrue(after, "no request after the 429")
        # Retry-After is a floor (a little slack for clock rounding).
        self.assertGreaterEqual(after[0]["t"] - seen[limited[0]]["t"], 1.9)
        watcher.stop()

    def test_faults_fail_only_their_source(self):
        """HTTP: bad bodies (BAD_BODIES); else the driver's FAULTS."""
        faults = self.driver.faults()
        healthy = self.driver.target(self.name("healthy"), ["1.0.0"])
        connectors, sources, targets = [], [], {}
        conn, src = self.blocks("healthy", healthy)
        connectors.append(conn)
        sources.append(src)
        for fault in faults:
            targets[fault] = self.driver.target(self.name(fault), ["1.0.0"])
            # From the first poll on: a later fault could meet only 304s.
            self.driver.fault(targets[fault], fault)
            conn, src = self.blocks("bad-" + fault, targets[fault])
            connectors.append(conn)
            sources.append(src)
        watcher = self.start(self.conf(sources, connectors))
        self.wait_polls(watcher, "healthy", 2)
        for fault, pattern in faults.items():
            source = "bad-" + fault
            [line] = watcher.wait_log(r'msg="poll failed".*source=%s '
                                      % source, timeout=30)[:1]
            self.assertRegex(logfmt(line)["error"], pattern, fault)
            self.no_other_complaints(watcher, source, fault)
        digest = self.driver.add(healthy, "1.1.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "healthy", healthy, "1.1.0",
                          digest)
        self.assertTrue(watcher.running())
        watcher.stop()

    def test_identity_change_rebaselines_silently(self):
        state = self.state_dir("identity-%s" % self.driver.SOURCE_TYPE)
        first = self.driver.target(self.name("ida"), ["1.0.0", "1.1.0"])
        watcher = self.run_one("ident", first, state=state)
        self.wait_polls(watcher, "ident", 2)
        watcher.stop()

        second = self.driver.target(self.name("idb"),
                                    ["5.0.0", "5.1.0", "5.2.0"])
        watcher = self.run_one("ident", second, state=state)
        self.wait_polls(watcher, "ident", 3)
        self.assertEqual(self.hook.deliveries, [],
                         "the new target's versions were emitted as new")
        watcher.wait_log(r"(?i)(identity|fingerprint|points elsewhere|"
                         r"re-?baselin).*source=ident ")
        digest = self.driver.add(second, "5.3.0")
        [delivery] = self.hook.wait_accepted(1)
        self.assert_event(delivery, "created", "ident", second, "5.3.0",
                          digest)
        watcher.stop()



class RecoveryCase:
    """Mix in beside ConformanceCases for a source that is not HTTP: its
    retry_after case cannot exist, this is its own: polls failing on the
    driver's RECOVERY_FAULT log one clear line each, and a version
    published meanwhile is created once the fault is lifted."""

    def test_failed_polls_lose_nothing(self):
        fault = self.driver.RECOVERY_FAULT
        pattern = self.driver.faults()[fault]
        target = self.driver.target(self.name("recover"), ["1.0.0"])
        watcher = self.run_one("recover", target)
        self.wait_polls(watcher, "recover", 2)
        self.driver.fault(target, fault)
        digest = self.driver.add(target, "1.1.0")
        lines = watcher.wait_log(r'msg="poll failed".*source=recover ', 2,
                                 timeout=30)
        for line in lines:
            self.assertRegex(logfmt(line)["error"], pattern)
        self.assertEqual(self.hook.deliveries, [])
        self.driver.clear_fault(target)
        [delivery] = self.hook.wait_accepted(1, timeout=30)
        self.assert_event(delivery, "created", "recover", target, "1.1.0",
                          digest)
        self.wait_more_polls(watcher, "recover")
        self.assertEqual(len(self.hook.deliveries), 1, "event repeated")
        self.no_other_complaints(watcher, "recover", fault)
        watcher.stop()
