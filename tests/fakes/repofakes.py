"""repofakes.py: fake repository managers for the integration tests (issue
12): GitHub's packages API, Nexus 3 (search, components), Nexus 2 (lucene
search) and Artifactory (AQL, and its docker API), each a Python stdlib
HTTP server on a free 127.0.0.1 port, answering in the shapes of
provider-protocols.md sections 9, 10 and 12.

Every fake records what it was asked, demands credentials when told to,
and injects faults by path prefix: "429" (with Retry-After), "500",
"garbage" (broken JSON), "html" (an HTML error page with status 200),
"truncated" (a body shorter than its Content-Length), "huge" (a body past
any provider's cap).

    gh = GitHubFake().start()
    gh.container("acme", "app", [("sha256:…", ["1.0", "latest"])])
    gh.fault("/orgs/acme/packages/container/app/", "html")
    gh.stop()
"""

import base64
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from harness import free_port  # noqa: E402

FAULTS = ("429", "500", "garbage", "html", "truncated", "huge")
HUGE = 40 * 1024 * 1024


def digest_of(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Fake:
    """The HTTP plumbing every fake shares."""

    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.credentials = None     # ("basic", user, pw) or ("bearer", tok)
        self.server = None
        self.clock = 1767261600     # pushed times, one minute apart

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def tick(self):
        self.clock += 60
        return self.clock

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.handle(self, "GET")

            def do_HEAD(self):
                owner.handle(self, "HEAD")

            def do_POST(self):
                owner.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def reset(self):
        with self.lock:
            self.faults = []
            self.credentials = None

    def fault(self, prefix, kind, count=-1, contains=None, retry_after=1):
        """Answer requests under prefix (whose query or body holds
        `contains`, if given) with the fault, count times (-1: always)."""
        if kind not in FAULTS:
            raise ValueError(kind)
        with self.lock:
            self.faults.append({"prefix": prefix, "kind": kind,
                                "count": count, "contains": contains,
                                "retry_after": retry_after})

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def requests(self, prefix=""):
        with self.lock:
            return [r for r in self.log if r["path"].startswith(prefix)]

    def take_fault(self, path, text):
        with self.lock:
            for f in self.faults:
                if f["contains"] is not None and f["contains"] not in text:
                    continue
                if path.startswith(f["prefix"]) and f["count"] != 0:
                    if f["count"] > 0:
                        f["count"] -= 1
                    return f
        return None

    def authorized(self, headers):
        if self.credentials is None:
            return True
        got = headers.get("Authorization") or ""
        if self.credentials[0] == "bearer":
            # GitHub takes "token X" (PyGithub 1.x sends it) and "Bearer X".
            return got in ("Bearer " + self.credentials[1],
                           "token " + self.credentials[1])
        raw = ("%s:%s" % self.credentials[1:]).encode()
        return got == "Basic " + base64.b64encode(raw).decode()

    def unauthorized(self):
        """401 as the server says it (overridden per fake)."""
        return 401, {"WWW-Authenticate": 'Basic realm="fake"',
                     "Content-Type": "application/json"}, \
            json.dumps({"errors": [{"status": 401, "message":
                                    "Authentication is required"}]})

    def send(self, h, method, status, headers, body):
        if isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)

    def send_fault(self, h, kind, retry_after=1):
        if kind == "429":
            return self.send(h, "GET", 429, {"Retry-After": str(retry_after),
                                             "Content-Type":
                                             "application/json"},
                             '{"message":"slow down"}')
        if kind == "500":
            return self.send(h, "GET", 500, {"Content-Type": "text/plain"},
                             "internal error")
        if kind == "garbage":
            return self.send(h, "GET", 200, {"Content-Type":
                                             "application/json"},
                             '{"items": [1, 2,,, "x')
        if kind == "html":
            return self.send(h, "GET", 200, {"Content-Type": "text/html"},
                             "<!DOCTYPE html><html><body><h1>Sign in"
                             "</h1></body></html>")
        if kind == "truncated":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "5000")
            h.end_headers()
            h.wfile.write(b'{"items": [{"name": "a"')
            h.wfile.flush()
            h.close_connection = True
            return None
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(HUGE + 2))
        h.end_headers()
        chunk = b" " * (1024 * 1024)
        try:
            h.wfile.write(b"[")
            for _ in range(HUGE // len(chunk)):
                h.wfile.write(chunk)
            h.wfile.write(b"]")
        except OSError:
            pass
        h.close_connection = True
        return None

    def handle(self, h, method):
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query,
                                            keep_blank_values=True))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        record = {"method": method, "path": parsed.path, "query": query,
                  "raw": h.path, "body": body.decode("utf-8", "replace"),
                  "auth": bool(h.headers.get("Authorization")),
                  "scheme": (h.headers.get("Authorization") or "").split(
                      " ", 1)[0] or None, "t": time.time()}
        with self.lock:
            self.log.append(record)
        f = self.take_fault(parsed.path, urllib.parse.unquote(h.path) +
                            "\n" + body.decode("utf-8", "replace"))
        if f is not None:
            record["status"] = "fault:" + f["kind"]
            return self.send_fault(h, f["kind"], f["retry_after"])
        if not self.authorized(h.headers):
            status, headers, out = self.unauthorized()
        else:
            with self.lock:
                status, headers, out = self.route(method, parsed.path,
                                                  query, h.headers, body)
        record["status"] = status
        self.send(h, method, status, headers, out)
        return None

    def route(self, method, path, query, headers, body):
        raise NotImplementedError


# ------------------------------------------------------------- GitHub

class GitHubFake(Fake):
    """GitHub's REST packages API (section 12): versions of a package,
    newest first, Link paging (per_page, page), x-ratelimit-* on every
    answer, ETag and 304, GitHub's error bodies."""

    def __init__(self):
        super().__init__()
        self.packages = {}      # (owner, type, name) -> [versions]
        self.next_id = 1000
        self.remaining = 5000
        self.user = "octo"
        self.spent = 0          # answers left that say the budget is spent
        self.page_limit = {}    # package name -> most versions a page

    def unauthorized(self):
        return 401, self.rate_headers(), json.dumps({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest"})

    def rate_headers(self):
        self.remaining = max(self.remaining - 1, 0)
        return {"Content-Type": "application/json; charset=utf-8",
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-used": str(5000 - self.remaining),
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                "x-ratelimit-resource": "core",
                "X-GitHub-Media-Type": "github.v3; format=json"}

    def version(self, owner, ptype, name, vname, tags=None):
        self.next_id += 1
        t = self.tick()
        base = "%s/orgs/%s/packages/%s/%s" % (self.url, owner, ptype,
                                              urllib.parse.quote(name, ""))
        meta = {"package_type": ptype}
        if ptype == "container":
            meta["container"] = {"tags": list(tags or [])}
        return {"id": self.next_id, "name": vname,
                "url": "%s/versions/%d" % (base, self.next_id),
                "package_html_url": "https://github.com/orgs/%s/packages/"
                "%s/package/%s" % (owner, ptype, name),
                "created_at": rfc3339(t), "updated_at": rfc3339(t),
                "html_url": "https://github.com/orgs/%s/packages/%s/%s/%d"
                % (owner, ptype, name, self.next_id),
                "metadata": meta}

    def push(self, owner, name, tags, content=None):
        """A container version (manifest) with tags, newest; tags move."""
        with self.lock:
            versions = self.packages.setdefault((owner, "container", name),
                                                [])
            for v in versions:
                tl = v["metadata"]["container"]["tags"]
                tl[:] = [t for t in tl if t not in tags]
            digest = digest_of("%s/%s:%s:%s:%d" % (owner, name, tags,
                                                   content, self.next_id))
            versions.insert(0, self.version(owner, "container", name,
                                            digest, tags))
            return digest

    def publish(self, owner, ptype, name, vname):
        with self.lock:
            self.packages.setdefault((owner, ptype, name), []).insert(
                0, self.version(owner, ptype, name, vname))

    def forget(self):
        with self.lock:
            self.packages = {}

    def route(self, method, path, query, headers, body):
        if path == "/rate_limit":
            h = self.rate_headers()
            core = {"limit": 5000, "remaining": self.remaining,
                    "reset": int(time.time()) + 3600, "used":
                    5000 - self.remaining}
            return 200, h, json.dumps({"resources": {"core": core},
                                       "rate": core})
        if self.spent > 0:
            # The primary limit is spent: 403, remaining 0, reset soon.
            self.spent -= 1
            h = self.rate_headers()
            h.update({"x-ratelimit-remaining": "0",
                      "x-ratelimit-used": "5000",
                      "x-ratelimit-reset": str(int(time.time()) + 2)})
            return 403, h, json.dumps({
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/"
                "overview/rate-limits-for-the-rest-api"})
        m = re.match(r"^/(?:orgs/([^/]+)|users/([^/]+)|user)/packages/"
                     r"([^/]+)/([^/]+)/versions$", path)
        h = self.rate_headers()
        if m is None:
            return 404, h, json.dumps({"message": "Not Found"})
        owner = m.group(1) or m.group(2) or self.user
        key = (owner, m.group(3), urllib.parse.unquote(m.group(4)))
        if key not in self.packages:
            return 404, h, json.dumps({
                "message": "Package not found.",
                "documentation_url": "https://docs.github.com/rest/"
                "packages/packages#list-package-versions"})
        per_page = min(int(query.get("per_page", "30")), 100,
                       self.page_limit.get(key[2], 100))
        page = int(query.get("page", "1"))
        items = self.packages[key]
        chunk = items[(page - 1) * per_page:page * per_page]
        out = json.dumps(chunk)
        etag = '"%s"' % hashlib.sha1(out.encode()).hexdigest()
        h["ETag"] = etag
        last = max(1, (len(items) + per_page - 1) // per_page)
        links = []
        base = self.url + path
        if page < last:
            links.append('<%s?per_page=%d&page=%d>; rel="next"'
                         % (base, per_page, page + 1))
            links.append('<%s?per_page=%d&page=%d>; rel="last"'
                         % (base, per_page, last))
        if links:
            h["Link"] = ", ".join(links)
        if headers.get("If-None-Match") == etag:
            return 304, h, b""
        return 200, h, out


# ------------------------------------------------------------- Nexus 3

def version_key(v):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p)
            for p in re.split(r"[.-]", v)]


class Nexus3Fake(Fake):
    """Nexus Repository 3's search and components APIs (section 9):
    continuationToken paging (page_size), sort=version desc, assets with
    checksums; old_version mode leaves out fileSize and blobCreated."""

    def __init__(self, page_size=50):
        super().__init__()
        self.page_size = page_size
        self.components = []
        self.old_version = False

    def add(self, repository, fmt, name, version, group=None,
            extension="jar", content=None):
        """A component with its main asset (and a .sha1 beside it)."""
        t = self.tick()
        if fmt == "maven2":
            base = "%s/%s/%s/%s-%s" % (group.replace(".", "/"), name,
                                        version, name, version)
            paths = [base + "." + extension, base + ".pom",
                     base + "." + extension + ".sha1"]
        elif fmt == "raw":
            paths = [name.lstrip("/")]
        else:
            paths = ["%s/-/%s-%s.tgz" % (name, name, version)]
        assets = []
        for p in paths:
            data = "%s:%s:%s" % (p, version, content)
            a = {"downloadUrl": "%s/repository/%s/%s" % (self.url,
                                                         repository, p),
                 "path": p, "id": base64.b64encode(p.encode()).decode(),
                 "repository": repository, "format": fmt,
                 "checksum": {"sha1": hashlib.sha1(data.encode())
                              .hexdigest(),
                              "sha256": hashlib.sha256(data.encode())
                              .hexdigest(),
                              "md5": hashlib.md5(data.encode())
                              .hexdigest()},
                 "contentType": "application/java-archive",
                 "lastModified": rfc3339(t)}
            if not self.old_version:
                a.update({"fileSize": len(data), "blobCreated": rfc3339(t),
                          "uploader": "ci", "uploaderIp": "10.0.0.5"})
            assets.append(a)
        comp = {"id": base64.b64encode(("%s:%s:%s" % (repository, name,
                                                      version)).encode())
                .decode(), "repository": repository, "format": fmt,
                "group": group, "name": name, "version": version,
                "assets": assets}
        with self.lock:
            self.components = [c for c in self.components
                               if not (c["repository"] == repository and
                                       c["name"] == name and
                                       c["version"] == version and
                                       c["group"] == group)]
            self.components.append(comp)
        return "sha256:" + assets[0]["checksum"]["sha256"]

    def forget(self):
        with self.lock:
            self.components = []

    def search(self, query):
        out = []
        for c in self.components:
            if query.get("repository") not in (None, c["repository"]):
                continue
            if query.get("format") not in (None, c["format"]):
                continue
            if query.get("name") not in (None, c["name"]):
                continue
            if query.get("group") not in (None, c["group"]):
                continue
            if query.get("maven.groupId") not in (None, c["group"]):
                continue
            if query.get("maven.artifactId") not in (None, c["name"]):
                continue
            out.append(c)
        if query.get("sort") == "version":
            out.sort(key=lambda c: version_key(c["version"] or ""),
                     reverse=query.get("direction", "desc") == "desc")
        return out

    def route(self, method, path, query, headers, body):
        js = {"Content-Type": "application/json"}
        if path == "/service/rest/v1/repositories":
            names = sorted({c["repository"] for c in self.components})
            return 200, js, json.dumps([{"name": n, "format": "maven2",
                                         "type": "hosted"} for n in names])
        if path not in ("/service/rest/v1/search",
                        "/service/rest/v1/components"):
            return 404, js, ""
        if path.endswith("/components") and "repository" not in query:
            return 422, js, json.dumps({"message": "repository is "
                                        "required"})
        if "repository" in query and not any(
                c["repository"] == query["repository"]
                for c in self.components):
            return 404, js, json.dumps({"message": "Repository not found"})
        found = self.search(query)
        start = int(query.get("continuationToken", "0") or "0", 16) \
            if query.get("continuationToken") else 0
        chunk = found[start:start + self.page_size]
        token = None
        if start + self.page_size < len(found):
            token = "%x" % (start + self.page_size)
        return 200, js, json.dumps({"items": chunk,
                                    "continuationToken": token})


class Nexus2Fake(Fake):
    """Nexus 2's lucene search (section 9.5): from/count paging, XML unless
    Accept: application/json, tooManyResults past a limit."""

    def __init__(self, too_many=1000):
        super().__init__()
        self.hits = []
        self.too_many = too_many

    def add(self, repository, group, artifact, version):
        with self.lock:
            self.hits.insert(0, {"groupId": group, "artifactId": artifact,
                                 "version": version,
                                 "latestRelease": version,
                                 "latestReleaseRepositoryId": repository,
                                 "artifactHits": [{
                                     "repositoryId": repository,
                                     "artifactLinks": [{"extension": "jar"},
                                                       {"extension":
                                                        "pom"}]}]})

    def forget(self):
        with self.lock:
            self.hits = []

    def route(self, method, path, query, headers, body):
        if path == "/service/local/repositories":
            names = sorted({x["latestReleaseRepositoryId"]
                            for x in self.hits})
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"data": [{"id": n, "repoType": "hosted"} for n in names]})
        if path != "/service/local/lucene/search":
            return 404, {"Content-Type": "text/html"}, "<html>404</html>"
        found = [x for x in self.hits
                 if query.get("g") in (None, x["groupId"]) and
                 query.get("a") in (None, x["artifactId"]) and
                 query.get("repositoryId") in
                 (None, x["latestReleaseRepositoryId"])]
        start = int(query.get("from", "0"))
        count = int(query.get("count", "200"))
        chunk = found[start:start + count]
        doc = {"totalCount": len(found), "from": start, "count": len(chunk),
               "tooManyResults": len(found) > self.too_many,
               "collapsed": False, "repoDetails": [], "data": chunk}
        if "application/json" in (headers.get("Accept") or ""):
            return 200, {"Content-Type": "application/json"}, json.dumps(doc)
        xml = "<searchNGResponse><totalCount>%d</totalCount><data>%s" \
              "</data></searchNGResponse>" % (len(found), "".join(
                  "<artifact><groupId>%s</groupId><artifactId>%s"
                  "</artifactId><version>%s</version></artifact>"
                  % (x["groupId"], x["artifactId"], x["version"])
                  for x in chunk))
        return 200, {"Content-Type": "application/xml"}, xml


# ------------------------------------------------------------- Artifactory

class ArtifactoryFake(Fake):
    """Artifactory (section 10) under /artifactory: AQL (text/plain POST,
    regex-read repo/path/name, sort by created desc, limit; a hard limit
    that trims with range.notification) and the docker API of a docker
    repository (/api/docker/<repo>/v2/<image>/tags/list with n/last and
    Link, manifests with Docker-Content-Digest)."""

    def __init__(self):
        super().__init__()
        self.files = []         # dicts: repo, path, name, created, sha256…
        self.images = {}        # (repo, image) -> {tag: digest}
        self.hard_limit = None
        self.quoted_numbers = False
        self.page_limit = {}    # (repo, image) -> most tags a page

    def put(self, repo, path, name, content=None):
        t = self.tick()
        data = "%s/%s/%s:%s" % (repo, path, name, content)
        f = {"repo": repo, "path": path, "name": name, "type": "file",
             "size": str(len(data)) if self.quoted_numbers else len(data),
             "created": "%s.000Z" % rfc3339(t)[:-1], "created_by": "ci",
             "modified": rfc3339(t), "updated": rfc3339(t),
             "sha256": hashlib.sha256(data.encode()).hexdigest(),
             "actual_sha1": hashlib.sha1(data.encode()).hexdigest()}
        with self.lock:
            self.files = [x for x in self.files
                          if (x["repo"], x["path"], x["name"]) !=
                          (repo, path, name)]
            self.files.append(f)
        return "sha256:" + f["sha256"]

    def tag(self, repo, image, tag, content=None):
        digest = digest_of("%s/%s:%s:%s" % (repo, image, tag, content))
        with self.lock:
            self.images.setdefault((repo, image), {})[tag] = digest
        return digest

    def forget(self):
        with self.lock:
            self.files = []
            self.images = {}

    @staticmethod
    def glob(pattern, value):
        return re.fullmatch(".*".join(re.escape(p)
                                      for p in pattern.split("*")),
                            value) is not None

    def aql(self, text):
        js = {"Content-Type": "application/json"}
        m = re.match(r'^items\.find\((\{.*\})\)\.include\(.*\)\.sort\('
                     r'\{"\$desc":\["created"\]\}\)\.limit\((\d+)\)$', text)
        if m is None:
            return 400, js, json.dumps({"errors": [{
                "status": 400, "message": "Failed to parse query"}]})
        crit = json.loads(m.group(1))
        limit = int(m.group(2))
        found = [f for f in self.files
                 if f["repo"] == crit["repo"] and
                 self.glob(crit["path"]["$match"], f["path"]) and
                 self.glob(crit["name"]["$match"], f["name"])]
        found.sort(key=lambda f: f["created"], reverse=True)
        rng = {"start_pos": 0}
        if self.hard_limit is not None and len(found) > self.hard_limit:
            found = found[:self.hard_limit]
            rng["notification"] = ("AQL query reached the search hard "
                                   "limit, results are trimmed.")
        found = found[:limit]
        rng.update({"end_pos": len(found), "total": len(found),
                    "limit": limit})
        return 200, js, json.dumps({"results": found, "range": rng})

    def route(self, method, path, query, headers, body):
        js = {"Content-Type": "application/json"}
        if path == "/artifactory/api/repositories":
            keys = sorted({f["repo"] for f in self.files} |
                          {r for r, _ in self.images})
            return 200, js, json.dumps([{"key": k, "type": "LOCAL"}
                                        for k in keys])
        if path == "/artifactory/api/search/aql" and method == "POST":
            return self.aql(body.decode())
        m = re.match(r"^/artifactory/api/docker/([^/]+)/v2/(.+)/"
                     r"(tags/list|manifests/[^/]+)$", path)
        if m is None:
            return 404, js, json.dumps({"errors": [{
                "status": 404, "message": "Not Found"}]})
        repo, image, what = m.groups()
        tags = self.images.get((repo, image))
        if tags is None:
            return 404, js, json.dumps({"errors": [{
                "code": "NAME_UNKNOWN", "message": "repository name not "
                "known to registry"}]})
        if what == "tags/list":
            names = sorted(tags)
            last = query.get("last")
            if last:
                names = [n for n in names if n > last]
            n = min(int(query.get("n", "100")),
                    self.page_limit.get((repo, image), 1 << 30))
            h = dict(js)
            if len(names) > n:
                h["Link"] = ('</artifactory/api/docker/%s/v2/%s/tags/list'
                             '?n=%d&last=%s>; rel="next"'
                             % (repo, image, n, names[n - 1]))
            return 200, h, json.dumps({"name": image, "tags": names[:n]})
        ref = what.split("/", 1)[1]
        digest = tags.get(ref)
        if digest is None:
            return 404, js, json.dumps({"errors": [{
                "code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        return 200, {"Content-Type":
                     "application/vnd.docker.distribution.manifest.v2+json",
                     "Docker-Content-Digest": digest}, json.dumps({
                         "schemaVersion": 2, "config": {"digest": digest}})
