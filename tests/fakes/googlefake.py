"""googlefake.py: a fake of the Google APIs the Gcp connector uses, for tests.

One HTTP server on a free 127.0.0.1 port answers as these services do:

- the OAuth token endpoint (POST /token): a JWT bearer grant whose RS256
  signature is checked with python3-google-auth (google.auth.jwt.decode)
  against the public half of a registered service-account key, and whose
  claims are checked (iss a known account, aud this endpoint, scope
  read-only, exp - iat <= 1 h); answers access_token + expires_in, or
  Google's own 400 invalid_grant;
- the metadata server (GET /computeMetadata/v1/instance/service-accounts/
  default/token), which wants Metadata-Flavor: Google;
- the GCS JSON API objects.list (/storage/v1/b/BUCKET/o: prefix,
  maxResults, pageToken; md5Hash/crc32c base64, int64s as strings);
- the Artifact Registry REST API (/v1/projects/P/locations/L/repositories/R
  /dockerImages and /packages/PKG/versions with %2F in PKG; pageSize,
  pageToken; view=FULL relatedTags);
- the gcr.io registry API: /v2/ challenge, /v2/token with Basic
  oauth2accesstoken:ACCESS_TOKEN, tags/list with the `manifest` map.

Every API request must carry a token this fake granted and that has not
expired (expire_tokens() ends them all at once: a token expiring mid-run;
token_lifetime(s) makes access and gcr.io registry tokens live s seconds).
Faults: fault(service, kind, count) makes the next `count` requests of a
service (token, metadata, storage, ar, gcr) fail with `throttle` (429
RESOURCE_EXHAUSTED), `500`, `garbage`, `html`, `truncate` or `huge`.
page_cap(n) makes every listing page at most n long (paging tests).

Per target (the conformance suite's: a bucket, an Artifact Registry
repository, a gcr.io image path): target_fault(key, kind, count,
retry_after) fails that target's listings only (`429` with Retry-After,
`garbage`, `html`, `truncate`, `huge`; count -1: until reset),
target_page_size(key, n) pages them (gcr.io's tags/list then pages by n
and last with a Link header, as the registry API does), and listings(key)
is the log of its listing requests: time, status and the Authorization
scheme.  Keys: ("gcs", bucket), ("ar", repository), ("gcr", image path).

    fake = GoogleFake().start()
    key = fake.service_account("reader@p.iam.gserviceaccount.com")
    fake.gcs_object("bucket", "releases/app-1.0.tgz", b"...", updated=...)
    fake.stop()
"""

import base64
import datetime
import hashlib
import http.server
import json
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
import os

from google.auth import jwt as gjwt

READ_ONLY_SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform.read-only",
    "https://www.googleapis.com/auth/devstorage.read_only",
)


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_rsa_key():
    """A fresh 2048-bit RSA key: (PKCS#8 private PEM, public PEM)."""
    with tempfile.TemporaryDirectory() as d:
        priv = os.path.join(d, "k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv],
                       check=True, capture_output=True)
        pub = subprocess.run(["openssl", "pkey", "-in", priv, "-pubout"],
                             check=True, capture_output=True).stdout
        with open(priv) as f:
            return f.read(), pub.decode()


class GError(Exception):
    def __init__(self, status, code, message, reason=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.reason = reason


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.accounts = {}      # email -> public PEM
        self.tokens = {}        # access token -> (expires, email)
        self.registry_tokens = {}   # gcr token -> expiry
        self.blobs = {}         # digest -> bytes (image configs)
        self.lifetime = 3600
        self.cap = 1000
        self.buckets = {}       # bucket -> {name: object dict}
        self.ar = {}            # (p, l, r) -> {"docker": [...], pkgs}
        self.gcr = {}           # repo -> {digest: {tags, uploaded, size}}
        self.faults = {}
        self.grants = []        # (ok, email or reason, claims)
        self.log = []           # (service, path, authorized)
        self.metadata_account = "default@fake.iam.gserviceaccount.com"
        self.target_faults = {}  # key -> [kind, count, retry_after]
        self.target_cap = {}    # key -> listing page size
        self.listing_lock = threading.Lock()
        self.listings = {}      # key -> [(unix s, status, auth scheme)]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def base_url(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def send(self, status, body, ctype="application/json", extra=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, e):
        if e.reason is not None:    # GCS's shape
            body = {"error": {"code": e.status, "message": e.message,
                              "errors": [{"domain": "global",
                                          "reason": e.reason,
                                          "message": e.message}]}}
        else:
            body = {"error": {"code": e.status, "message": e.message,
                              "status": e.code}}
        self.send(e.status, body)

    def fault(self, service):
        with self.st.lock:
            rule = self.st.faults.get(service)
            if not rule or rule[1] == 0:
                return None
            rule[1] -= 1
            return rule[0]

    def play_fault(self, kind):
        if kind == "throttle":
            self.send(429, {"error": {
                "code": 429, "status": "RESOURCE_EXHAUSTED",
                "message": "Quota exceeded for quota metric 'Read "
                           "requests' of service 'fake.googleapis.com'"}},
                extra={"Retry-After": "2"})
        elif kind == "500":
            self.send(500, {"error": {"code": 500, "status": "INTERNAL",
                                      "message": "Internal error."}})
        elif kind == "garbage":
            self.send(200, b"\x00\xffnot json{{")
        elif kind == "html":
            self.send(200, "<html><body>Sign in</body></html>", "text/html")
        elif kind == "truncate":
            body = b'{"items": [{"name": "a"'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        elif kind == "huge":
            # More than any body cap of the watcher's (gcr's: 32 MiB).
            body = b'{"items": [' + b'{"name": "x"},' * 3000000 + b'{}]}'
            self.send(200, body)

    def send_response(self, code, message=None):
        """Every answer: a listing of a target goes into its log."""
        key = getattr(self, "listing_key", None)
        if key is not None:
            self.listing_key = None
            auth = (self.headers.get("Authorization") or "").split(" ")[0]
            with self.st.listing_lock:   # answers may go under .lock
                self.st.listings.setdefault(key, []).append(
                    (time.time(), code, auth or None))
        super().send_response(code, message)

    def listing_of(self, raw):
        """The target a listing request reads, or None."""
        seg = raw.split("/")
        if raw.startswith("/storage/v1/b/") and len(seg) == 6 and \
                seg[5] == "o":
            return ("gcs", urllib.parse.unquote(seg[4]))
        if raw.startswith("/v1/projects/") and len(seg) >= 9 and \
                seg[-1] in ("dockerImages", "versions"):
            return ("ar", seg[7])
        if raw.startswith("/v2/") and raw.endswith("/tags/list"):
            return ("gcr", raw[4:-len("/tags/list")])
        return None

    def target_fault(self, key):
        """A fault set on this target's listings: played, True."""
        with self.st.lock:
            rule = self.st.target_faults.get(key)
            if not rule or rule[1] == 0:
                return False
            rule[1] -= 1
            kind, retry_after = rule[0], rule[2]
        if kind == "429":
            self.send(429, {"error": {
                "code": 429, "status": "RESOURCE_EXHAUSTED",
                "message": "Quota exceeded for quota metric 'Read "
                           "requests'"}},
                extra={"Retry-After": str(retry_after or 1)})
        else:
            self.play_fault(kind)
        return True

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        return urllib.parse.parse_qs(self.rfile.read(n).decode())

    def bearer(self, service):
        """The token's account, or raise 401."""
        auth = self.headers.get("Authorization") or ""
        ok = None
        if auth.startswith("Bearer "):
            with self.st.lock:
                got = self.st.tokens.get(auth[7:])
                if got and got[0] > time.time():
                    ok = got[1]
        with self.st.lock:
            self.st.log.append((service, self.path, ok is not None))
        if ok is None:
            raise GError(401, "UNAUTHENTICATED",
                         "Request had invalid authentication credentials. "
                         "Expected OAuth 2 access token.")
        return ok

    def issue(self, email):
        token = "ya29.fake-" + uuid.uuid4().hex
        with self.st.lock:
            self.st.tokens[token] = (time.time() + self.st.lifetime, email)
            life = self.st.lifetime
        return {"access_token": token, "expires_in": life,
                "token_type": "Bearer"}

    # ------------------------------------------------------------ routes

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path != "/token":
            return self.send(404, {"error": "not_found"})
        kind = self.fault("token")
        if kind:
            return self.play_fault(kind)
        form = self.form()
        grant = (form.get("grant_type") or [""])[0]
        assertion = (form.get("assertion") or [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.send(400, {"error": "unsupported_grant_type",
                                   "error_description": "Invalid grant_type"})
        reason, claims = self.check_grant(assertion)
        with self.st.lock:
            self.st.grants.append((reason is None, reason or
                                   claims.get("iss"), claims))
        if reason is not None:
            return self.send(400, {"error": "invalid_grant",
                                   "error_description": reason})
        self.send(200, self.issue(claims["iss"]))

    def check_grant(self, assertion):
        try:
            unverified = gjwt.decode(assertion, verify=False)
        except Exception as e:
            return "Invalid JWT: %s" % e, {}
        iss = unverified.get("iss")
        with self.st.lock:
            pub = self.st.accounts.get(iss)
        if pub is None:
            return "Invalid JWT: no such service account %s" % iss, unverified
        try:
            claims = gjwt.decode(assertion, certs=pub,
                                 audience=self.base_url() + "/token")
        except Exception as e:
            return "Invalid JWT Signature. (%s)" % e, unverified
        header = json.loads(base64.urlsafe_b64decode(
            assertion.split(".")[0] + "=="))
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256", claims
        scopes = (claims.get("scope") or "").split()
        if not scopes or any(s not in READ_ONLY_SCOPES for s in scopes):
            return "Invalid JWT: the scope must be read-only", claims
        if claims["exp"] - claims["iat"] > 3600:
            return ("Invalid JWT: Token must be a short-lived token (60 "
                    "minutes) and in a reasonable timeframe. Check your "
                    "iat and exp values in the JWT claim."), claims
        return None, claims

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        raw = url.path
        self.listing_key = self.listing_of(raw)
        if self.listing_key is not None and \
                self.target_fault(self.listing_key):
            return
        try:
            if raw.startswith("/computeMetadata/"):
                return self.metadata(raw, q)
            if raw.startswith("/storage/v1/b/"):
                service = "storage"
            elif raw.startswith("/v1/projects/"):
                service = "ar"
            elif raw.startswith("/v2/"):
                return self.gcr(raw, q)
            else:
                return self.send(404, {"error": {"code": 404,
                                                 "message": "Not Found"}})
            kind = self.fault(service)
            if kind:
                return self.play_fault(kind)
            self.bearer(service)
            if service == "storage":
                return self.gcs_list(raw, q)
            return self.ar_list(raw, q)
        except GError as e:
            self.error(e)

    def metadata(self, path, q):
        kind = self.fault("metadata")
        if kind:
            return self.play_fault(kind)
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.send(403, "Missing Metadata-Flavor:Google header.",
                             "text/html")
        if path != ("/computeMetadata/v1/instance/service-accounts/"
                    "default/token"):
            return self.send(404, "Not Found", "text/html")
        scopes = (q.get("scopes") or [""])[0].split(",")
        if any(s not in READ_ONLY_SCOPES for s in scopes):
            return self.send(400, {"error": "invalid_scope"})
        with self.st.lock:
            self.st.log.append(("metadata", path, True))
        self.send(200, self.issue(self.st.metadata_account),
                  extra={"Metadata-Flavor": "Google"})

    def page(self, items, q, size_param):
        try:
            size = int((q.get(size_param) or ["1000"])[0])
        except ValueError:
            raise GError(400, "INVALID_ARGUMENT", "bad page size")
        with self.st.lock:
            cap = self.st.target_cap.get(self.listing_key, self.st.cap)
        size = max(1, min(size, 1000, self.st.cap, cap))
        start = 0
        token = (q.get("pageToken") or [""])[0]
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except Exception:
                raise GError(400, "INVALID_ARGUMENT", "Invalid page token")
        chunk = items[start:start + size]
        nxt = None
        if start + size < len(items):
            nxt = base64.b64encode(str(start + size).encode()).decode()
        return chunk, nxt

    def gcs_list(self, raw, q):
        parts = raw[len("/storage/v1/b/"):].split("/")
        if len(parts) != 2 or parts[1] != "o":
            raise GError(404, None, "Not Found", "notFound")
        bucket = urllib.parse.unquote(parts[0])
        prefix = (q.get("prefix") or [""])[0]
        with self.st.lock:
            objs = self.st.buckets.get(bucket)
            if objs is None:
                raise GError(404, None, "The specified bucket does not "
                             "exist.", "notFound")
            names = sorted(n for n in objs if n.startswith(prefix))
            items = [dict(objs[n]) for n in names]
        chunk, nxt = self.page(items, q, "maxResults")
        body = {"kind": "storage#objects", "items": chunk}
        if nxt:
            body["nextPageToken"] = nxt
        self.send(200, body)

    def ar_list(self, raw, q):
        # /v1/projects/P/locations/L/repositories/R/(dockerImages|
        # packages/PKG/versions)
        seg = raw.split("/")
        if len(seg) < 9 or seg[2] != "projects" or seg[4] != "locations" \
                or seg[6] != "repositories":
            raise GError(404, "NOT_FOUND", "Requested entity was not found.")
        key = (seg[3], seg[5], seg[7])
        with self.st.lock:
            repo = self.st.ar.get(key)
        if repo is None:
            raise GError(404, "NOT_FOUND", "Repository \"projects/%s/"
                         "locations/%s/repositories/%s\" not found" % key)
        rest = seg[8:]
        if rest == ["dockerImages"]:
            items = sorted(repo["docker"], key=lambda i: i["name"])
            chunk, nxt = self.page(items, q, "pageSize")
            body = {"dockerImages": chunk}
        elif len(rest) == 3 and rest[0] == "packages" and \
                rest[2] == "versions":
            if "/" in rest[1]:
                raise GError(400, "INVALID_ARGUMENT", "bad package")
            pkg = urllib.parse.unquote(rest[1])
            vers = repo["packages"].get(pkg)
            if vers is None:
                raise GError(404, "NOT_FOUND", "Package \"%s\" not found"
                             % pkg)
            full = (q.get("view") or ["BASIC"])[0] == "FULL"
            items = []
            for v in sorted(vers, key=lambda v: v["name"]):
                v = dict(v)
                if not full:
                    v.pop("relatedTags", None)
                items.append(v)
            chunk, nxt = self.page(items, q, "pageSize")
            body = {"versions": chunk}
        else:
            raise GError(404, "NOT_FOUND", "Requested entity was not found.")
        if nxt:
            body["nextPageToken"] = nxt
        self.send(200, body)

    # ------------------------------------------------------------ gcr.io

    def gcr(self, raw, q):
        kind = self.fault("gcr")
        if kind:
            return self.play_fault(kind)
        if raw == "/v2/token":
            return self.gcr_token(q)
        auth = self.headers.get("Authorization") or ""
        with self.st.lock:
            ok = auth.startswith("Bearer ") and \
                self.st.registry_tokens.get(auth[7:], 0) > time.time()
            self.st.log.append(("gcr", self.path, ok))
        if not ok:
            realm = self.base_url() + "/v2/token"
            return self.send(401, {"errors": [{
                "code": "UNAUTHORIZED", "message": "Unauthorized"}]},
                extra={"WWW-Authenticate": 'Bearer realm="%s",service='
                       '"gcr.io"' % realm,
                       "Docker-Distribution-API-Version": "registry/2.0"})
        if raw == "/v2/":
            return self.send(200, {})
        if raw.endswith("/tags/list"):
            repo = raw[4:-len("/tags/list")]
            with self.st.lock:
                images = self.st.gcr.get(repo)
                if images is None:
                    return self.send(404, {"errors": [{
                        "code": "NAME_UNKNOWN", "message": "Repository "
                        "\"%s\" not found" % repo}]})
                cap = self.st.target_cap.get(("gcr", repo))
                every = sorted(t for im in images.values()
                               for t in im["tags"])
                page, link = every, None
                if cap is not None:
                    last = (q.get("last") or [""])[0]
                    start = sum(1 for t in every if last and t <= last)
                    page = every[start:start + cap]
                    if start + cap < len(every):
                        link = '</v2/%s/tags/list?n=%d&last=%s>; ' \
                            'rel="next"' % (repo, cap, urllib.parse.quote(
                                page[-1]))
                manifest, tags = {}, []
                for digest, im in images.items():
                    mine = [t for t in im["tags"] if t in page]
                    if cap is not None and not mine:
                        continue
                    manifest[digest] = {
                        "imageSizeBytes": str(im["size"]), "layerId": "",
                        "mediaType": "application/vnd.docker.distribution."
                                     "manifest.v2+json",
                        "tag": mine,
                        "timeCreatedMs": str(int(im["uploaded"] * 1000)),
                        "timeUploadedMs": str(int(im["uploaded"] * 1000))}
                    tags += mine
            return self.send(200, {"child": [], "manifest": manifest,
                                   "name": repo, "tags": sorted(tags)},
                             extra={"Link": link} if link else None)
        if "/blobs/" in raw:
            repo, ref = raw[4:].split("/blobs/", 1)
            with self.st.lock:
                blob = self.st.blobs.get(ref)
            if blob is None:
                return self.send(404, {"errors": [{"code": "BLOB_UNKNOWN",
                                                   "message": "unknown"}]})
            return self.send(200, blob, "application/octet-stream",
                             extra={"Docker-Content-Digest": ref})
        if "/manifests/" in raw:
            repo, ref = raw[4:].split("/manifests/", 1)
            with self.st.lock:
                for digest, im in (self.st.gcr.get(repo) or {}).items():
                    if ref in im["tags"] or ref == digest:
                        body = json.dumps(im["manifest"])
                        return self.send(200, body, im["manifest"][
                            "mediaType"], extra={
                            "Docker-Content-Digest": digest})
            return self.send(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                               "message": "unknown"}]})
        self.send(404, {"errors": [{"code": "NOT_FOUND",
                                    "message": "not found"}]})

    def gcr_token(self, q):
        auth = self.headers.get("Authorization") or ""
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode() \
                    .partition(":")
            except Exception:
                user, pw = "", ""
            with self.st.lock:
                got = self.st.tokens.get(pw)
                ok = user == "oauth2accesstoken" and got is not None and \
                    got[0] > time.time()
        with self.st.lock:
            self.st.log.append(("gcr", "/v2/token", ok))
        if not ok:
            return self.send(401, {"errors": [{
                "code": "UNAUTHORIZED", "message": "Not Authorized."}]})
        token = "gcr-" + uuid.uuid4().hex
        with self.st.lock:
            life = self.st.lifetime     # as long as access tokens live
            self.st.registry_tokens[token] = time.time() + life
        self.send(200, {"token": token, "expires_in": life})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass    # a client that hung up on a huge or truncated answer


class GoogleFake:
    """The fake, on a free 127.0.0.1 port."""

    def __init__(self):
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.state = State()
        self.thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def state(self):
        return self.server.state

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ setup

    def service_account(self, email, key=None):
        """Register an account; returns its key file's dict."""
        priv, pub = key or make_rsa_key()
        with self.state.lock:
            self.state.accounts[email] = pub
        return {"type": "service_account", "project_id": "fake-project",
                "private_key_id": uuid.uuid4().hex,
                "private_key": priv, "client_email": email,
                "client_id": "1234567890",
                "token_uri": self.url + "/token"}

    def token_lifetime(self, seconds):
        with self.state.lock:
            self.state.lifetime = seconds

    def expire_tokens(self):
        with self.state.lock:
            self.state.tokens = {t: (0, e) for t, (_, e) in
                                 self.state.tokens.items()}

    def page_cap(self, n):
        with self.state.lock:
            self.state.cap = n

    def fault(self, service, kind, count=1):
        with self.state.lock:
            self.state.faults[service] = [kind, count]

    def target_fault(self, key, kind, count=-1, retry_after=None):
        with self.state.lock:
            self.state.target_faults[key] = [kind, count, retry_after]

    def target_page_size(self, key, n):
        with self.state.lock:
            self.state.target_cap[key] = n

    def listings(self, key):
        with self.state.listing_lock:
            return list(self.state.listings.get(key, []))

    def reset_targets(self):
        """Forget every target's faults, page size and listings."""
        with self.state.lock:
            self.state.target_faults = {}
            self.state.target_cap = {}
            self.state.listings = {}

    def bucket(self, name):
        with self.state.lock:
            self.state.buckets.setdefault(name, {})

    def gcs_object(self, bucket, name, data, updated, composite=False):
        """Write an object (a new generation when it exists)."""
        gen = str(int(updated * 1e6))
        obj = {"kind": "storage#object", "name": name, "bucket": bucket,
               "id": "%s/%s/%s" % (bucket, name, gen), "generation": gen,
               "metageneration": "1", "contentType":
               "application/octet-stream", "size": str(len(data)),
               "crc32c": base64.b64encode(
                   (zlib.crc32(data) & 0xffffffff).to_bytes(4, "big"))
               .decode(), "timeCreated": rfc3339(updated),
               "updated": rfc3339(updated),
               "mediaLink": "%s/download/storage/v1/b/%s/o/%s?generation="
               "%s&alt=media" % (self.url, bucket, urllib.parse.quote(
                   name, safe=""), gen)}
        if not composite:
            obj["md5Hash"] = base64.b64encode(
                hashlib.md5(data).digest()).decode()
        with self.state.lock:
            self.state.buckets.setdefault(bucket, {})[name] = obj
        return obj

    def ar_repo(self, project, location, repo):
        with self.state.lock:
            return self.state.ar.setdefault(
                (project, location, repo), {"docker": [], "packages": {}})

    def ar_image(self, project, location, repo, package, digest, tags,
                 uploaded, size=1000):
        r = self.ar_repo(project, location, repo)
        esc = urllib.parse.quote(package, safe="")
        name = "projects/%s/locations/%s/repositories/%s/dockerImages/" \
            "%s@%s" % (project, location, repo, esc, digest)
        with self.state.lock:
            for im in r["docker"]:      # a tag moves to the new image
                im["tags"] = [t for t in im["tags"] if t not in tags]
            r["docker"].append({
                "name": name, "uri": "%s-docker.pkg.dev/%s/%s/%s@%s" % (
                    location, project, repo, package, digest),
                "tags": list(tags), "imageSizeBytes": str(size),
                "uploadTime": rfc3339(uploaded),
                "mediaType": "application/vnd.docker.distribution."
                             "manifest.v2+json",
                "buildTime": rfc3339(uploaded),
                "updateTime": rfc3339(uploaded)})

    def ar_version(self, project, location, repo, package, version,
                   created, tags=()):
        r = self.ar_repo(project, location, repo)
        esc = urllib.parse.quote(package, safe="")
        base = "projects/%s/locations/%s/repositories/%s/packages/%s" % (
            project, location, repo, esc)
        with self.state.lock:
            r["packages"].setdefault(package, []).append({
                "name": "%s/versions/%s" % (base, version),
                "createTime": rfc3339(created),
                "updateTime": rfc3339(created),
                "relatedTags": [{"name": "%s/tags/%s" % (base, t),
                                 "version": "%s/versions/%s" % (
                                     base, version)} for t in tags]})

    def gcr_image(self, repo, digest, tags, uploaded, size=1000,
                  labels=None):
        """An image; with labels, its config blob holds them."""
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "created": rfc3339(uploaded),
                             "config": {"Labels": labels or {}}}).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        with self.state.lock:
            self.state.blobs[config_digest] = config
            images = self.state.gcr.setdefault(repo, {})
            for im in images.values():
                im["tags"] = [t for t in im["tags"] if t not in tags]
            images[digest] = {
                "tags": list(tags), "uploaded": uploaded, "size": size,
                "manifest": {
                    "schemaVersion": 2, "mediaType":
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker."
                               "container.image.v1+json",
                               "size": len(config),
                               "digest": config_digest},
                    "layers": []}}

    # ------------------------------------------------------------ reading

    def requests(self):
        with self.state.lock:
            return list(self.state.log)

    def grants(self):
        with self.state.lock:
            return list(self.state.grants)


def digest_of(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
