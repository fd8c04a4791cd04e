"""azurefake.py: a fake of the Azure services the Azure family uses, for tests.

One HTTP server on a free 127.0.0.1 port answers as these do:

- Azure AD's token endpoint, POST /<tenant>/oauth2/v2.0/token, client
  credentials: a client secret is compared; a client assertion is checked as
  Azure AD does: an RS256 JWT whose signature verifies with the registered
  certificate's public key (python3-cryptography), whose x5t header is that
  certificate's SHA-1 thumbprint, with aud = this endpoint's URL, iss = sub =
  the client id, and exp in the future.  The scope must be ARM's .default.
  Refusals are Azure AD's JSON errors (AADSTS codes);
- the managed identity endpoint of the instance metadata service, GET
  /metadata/identity/oauth2/token (Metadata: true, resource, client_id of a
  user-assigned identity), expires_in as a string as IMDS sends it;
- Azure Container Registry: POST /oauth2/exchange (an Azure AD token for a
  refresh token), POST /oauth2/token (a refresh token for an access token of
  a scope) and GET /oauth2/token with the admin user's Basic credentials;
  GET /acr/v1/<repo>/_tags (orderby=timedesc, n, Link rel="next" paging with
  a relative URL) and /acr/v1/<repo>/_tags/<tag>, each requiring an
  unexpired access token granting metadata_read on the repository, else 401
  with the registry's Bearer challenge;
- the Azure DevOps feeds API: /<org>[/<project>]/_apis/packaging/Feeds/
  <feed>/packages (protocolType, packageNameQuery) and .../Packages/<id>/
  versions, api-version required, Basic ":" + PAT; a bad token gets the 203
  sign-in page unless X-TFS-FedAuthRedirect: Suppress asks for a 401.

Every token the fake issues expires (lifetimes settable) and an expired one
is refused, so a client that does not renew fails.  Faults:
fault(prefix, kind, count, retry_after) makes the next `count` requests
whose path starts with prefix fail with 429 (Retry-After), 500, garbage,
html, truncate, huge or signin (a 203 HTML page); count -1 is for good.
requests() is the log.  For the conformance suite, listings(key) logs the
listing requests of one target (time, status, Authorization scheme): ACR's
/acr/v1/<repo>/_tags as ("acr", repo), a feed's packages and versions
requests as ("feed", feed); repo_page_size(repo, n) pages one repository.
"""

import base64
import datetime
import hashlib
import http.server
import json
import socketserver
import threading
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
MANAGEMENT_RESOURCE = "https://management.azure.com/"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def digest_of(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def make_certificate(common_name="artifact-watcher-test"):
    """(PEM of certificate + key, the certificate) for a service principal."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return pem.decode(), cert


def fake_jwt(claims):
    """A token shaped like ACR's (a JWT); the fake knows it by its value."""
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    return "%s.%s.%s" % (head, body, b64url(uuid.uuid4().bytes))


class Refused(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def aad_error(code, aadsts, text, status=401):
    return Refused(status, {
        "error": code,
        "error_description": "%s: %s\r\nTrace ID: %s\r\nCorrelation ID: "
                             "%s\r\nTimestamp: 2026-01-01 10:00:00Z"
                             % (aadsts, text, uuid.uuid4(), uuid.uuid4()),
        "error_codes": [int(aadsts[6:])]})


def acr_error(status, code, message, headers=None):
    return Refused(status, {"errors": [{"code": code, "message": message,
                                        "detail": None}]}, headers)


class State:
    """What the fake holds; every method takes the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.apps = {}          # (tenant, client id) -> secret or cert
        self.identities = {}    # IMDS client id (None: system) -> True
        self.aad_tokens = {}    # token -> expiry
        self.refresh_tokens = {}  # token -> (service, expiry)
        self.access_tokens = {}   # token -> (service, scope, expiry)
        self.admins = {}        # (user, password) -> service
        self.registry = "myreg.azurecr.io"
        self.repos = {}         # repo -> {tag: (digest, created, updated)}
        self.pats = set()
        self.feeds = {}         # (org, project, feed) -> {name: package}
        self.faults = []        # [prefix, kind, count, retry_after]
        self.log = []           # (method, path, headers dict)
        self.issued = {"aad": 0, "imds": 0, "refresh": 0, "access": 0}
        self.assertions = 0     # client assertions verified
        self.aad_life = 3600
        self.acr_life = 3600
        self.page_size = None   # the registry's own cap on n
        self.repo_page = {}     # repo -> its own cap on n
        self.listing_lock = threading.Lock()
        self.listings = {}      # target key -> [(unix s, status, auth)]
        self.blobs = {}         # digest -> (media type, bytes)
        self.clock = time.time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def reply(self, status, body, headers=None, ctype="application/json"):
        data = body if isinstance(body, bytes) else (
            json.dumps(body).encode() if not isinstance(body, str)
            else body.encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def fault(self, path):
        st = self.state
        with st.lock:
            for f in st.faults:
                if path.startswith(f[0]) and f[2] != 0:
                    if f[2] > 0:
                        f[2] -= 1
                    return f[1], f[3]
        return None, None

    def do_fault(self, kind, retry_after):
        if kind == "429":
            self.reply(429, {"errors": [{"code": "TOOMANYREQUESTS",
                                         "message": "too many requests"}]},
                       {"Retry-After": str(retry_after)})
        elif kind == "500":
            self.reply(500, {"errors": [{"code": "INTERNAL",
                                         "message": "boom"}]})
        elif kind == "garbage":
            self.reply(200, b"\x00\x01 not json at all {{{")
        elif kind == "html":
            self.reply(200, "<html><body>proxy error</body></html>",
                       ctype="text/html")
        elif kind == "signin":
            self.reply(203, "<!DOCTYPE html><html><head><title>Azure "
                       "DevOps Services | Sign In</title></head></html>",
                       ctype="text/html; charset=utf-8")
        elif kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"tags": [')
            self.wfile.flush()
            self.close_connection = True
        elif kind == "huge":
            self.reply(200, b'{"pad": "' + b"x" * (20 * 1024 * 1024) +
                       b'"}')

    def send_response(self, code, message=None):
        """Every answer: a listing of a target goes into its log."""
        key = getattr(self, "listing_key", None)
        if key is not None:
            self.listing_key = None
            auth = self.headers.get("Authorization", "").split(" ")[0]
            with self.state.listing_lock:   # answers may go under .lock
                self.state.listings.setdefault(key, []).append(
                    (time.time(), code, auth or None))
        super().send_response(code, message)

    @staticmethod
    def listing_of(path):
        parts = [urllib.parse.unquote(p) for p in path.split("/")]
        if path.startswith("/acr/v1/") and path.endswith("/_tags"):
            return ("acr", path[len("/acr/v1/"):-len("/_tags")])
        if "/_apis/packaging/" in path and "Feeds" in parts:
            i = parts.index("Feeds")
            if len(parts) > i + 1:
                return ("feed", parts[i + 1])
        return None

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        self.listing_key = self.listing_of(url.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.state.lock:
            self.state.log.append((self.command, self.path,
                                   {k.lower(): v for k, v
                                    in self.headers.items()},
                                   time.monotonic()))
        kind, retry_after = self.fault(url.path)
        if kind is not None:
            self.do_fault(kind, retry_after)
            return
        query = dict(urllib.parse.parse_qsl(url.query))
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        try:
            status, answer, headers = self.route(url.path, query, form)
            if status is not None:
                self.reply(status, answer, headers)
        except Refused as r:
            self.reply(r.status, r.body, r.headers)

    do_GET = do_POST = do_HEAD = handle_any

    # ------------------------------------------------------------- routes

    def route(self, path, query, form):
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]]
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] \
                and self.command == "POST":
            return self.aad_token(parts[0], path, form)
        if path == "/metadata/identity/oauth2/token":
            return self.imds_token(query)
        if path == "/oauth2/exchange" and self.command == "POST":
            return self.acr_exchange(form)
        if path == "/oauth2/token":
            return self.acr_token(query, form)
        if path.startswith("/acr/v1/"):
            return self.acr_tags(path[len("/acr/v1/"):], query)
        if path.startswith("/v2/"):
            return self.registry_v2(path[len("/v2/"):])
        if "/_apis/packaging/" in path:
            return self.feeds(path, query)
        raise Refused(404, {"error": "no such path " + path})

    def now(self):
        return self.state.clock()

    def aad_token(self, tenant, path, form):
        st = self.state
        if form.get("grant_type") != "client_credentials":
            raise aad_error("unsupported_grant_type", "AADSTS70003",
                            "The app requested an unsupported grant type",
                            400)
        client = form.get("client_id")
        with st.lock:
            cred = st.apps.get((tenant, client))
        if cred is None:
            raise aad_error("unauthorized_client", "AADSTS700016",
                            "Application with identifier '%s' was not found "
                            "in the directory '%s'." % (client, tenant), 400)
        if form.get("scope") != MANAGEMENT_SCOPE:
            raise aad_error("invalid_scope", "AADSTS70011", "The provided "
                            "value for the input parameter 'scope' is not "
                            "valid.", 400)
        if isinstance(cred, str):
            if form.get("client_secret") != cred:
                raise aad_error("invalid_client", "AADSTS7000215",
                                "Invalid client secret provided. Ensure the "
                                "secret being sent in the request is the "
                                "client secret value, not the client secret "
                                "ID")
        else:
            self.check_assertion(cred, client, path, form)
        token = "aad-" + uuid.uuid4().hex
        with st.lock:
            st.aad_tokens[token] = self.now() + st.aad_life
            st.issued["aad"] += 1
            life = st.aad_life
        return 200, {"token_type": "Bearer", "expires_in": life,
                     "ext_expires_in": life, "access_token": token}, None

    def check_assertion(self, cert, client, path, form):
        if form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise aad_error("invalid_request", "AADSTS900144", "The request "
                            "body must contain client_assertion_type", 400)
        jwt = form.get("client_assertion", "")
        try:
            head, claims, sig = jwt.split(".")
            header = json.loads(unb64url(head))
            body = json.loads(unb64url(claims))
            signature = unb64url(sig)
        except ValueError:
            raise aad_error("invalid_client", "AADSTS50027", "JWT token is "
                            "invalid or malformed") from None
        thumb = b64url(cert.fingerprint(hashes.SHA1()))
        if header.get("alg") != "RS256" or header.get("x5t") != thumb:
            raise aad_error("invalid_client", "AADSTS700027", "Client "
                            "assertion contains an invalid signature "
                            "(unknown key, x5t %r)" % header.get("x5t"))
        try:
            cert.public_key().verify(signature, ("%s.%s" % (head, claims))
                                     .encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
        except Exception:
            raise aad_error("invalid_client", "AADSTS700027", "Client "
                            "assertion contains an invalid signature.") \
                from None
        aud = "http://%s:%d%s" % (self.server.server_address[0],
                                  self.server.server_address[1], path)
        now = self.now()
        if body.get("aud") != aud:
            raise aad_error("invalid_client", "AADSTS700212", "No matching "
                            "audience in the client assertion: %r"
                            % body.get("aud"))
        if body.get("iss") != client or body.get("sub") != client:
            raise aad_error("invalid_client", "AADSTS700021", "Client "
                            "assertion application identifier doesn't match")
        if not isinstance(body.get("exp"), (int, float)) or \
                body["exp"] < now or body.get("nbf", 0) > now + 300:
            raise aad_error("invalid_client", "AADSTS700024", "Client "
                            "assertion is not within its valid time range.")
        with self.state.lock:
            self.state.assertions += 1

    def imds_token(self, query):
        st = self.state
        if self.headers.get("Metadata") != "true":
            raise Refused(400, {"error": "invalid_request",
                                "error_description": "Required metadata "
                                "header not specified"})
        if query.get("resource") != MANAGEMENT_RESOURCE or \
                not query.get("api-version"):
            raise Refused(400, {"error": "invalid_resource",
                                "error_description": "bad resource"})
        with st.lock:
            known = query.get("client_id") in st.identities
        if not known:
            raise Refused(400, {"error": "invalid_request",
                                "error_description": "Identity not found"})
        token = "aad-" + uuid.uuid4().hex
        with st.lock:
            exp = self.now() + st.aad_life
            st.aad_tokens[token] = exp
            st.issued["imds"] += 1
            life = st.aad_life
        return 200, {"access_token": token, "expires_in": str(life),
                     "expires_on": str(int(exp)), "resource":
                     MANAGEMENT_RESOURCE, "token_type": "Bearer"}, None

    def acr_exchange(self, form):
        st = self.state
        if form.get("grant_type") != "access_token":
            raise acr_error(400, "UNSUPPORTED", "grant_type must be "
                            "access_token")
        if form.get("service") != st.registry:
            raise acr_error(400, "INVALID_SERVICE", "service %r is not "
                            "this registry" % form.get("service"))
        with st.lock:
            exp = st.aad_tokens.get(form.get("access_token"))
        if exp is None or exp < self.now():
            raise acr_error(401, "UNAUTHORIZED", "the Azure AD access token "
                            "is invalid or expired")
        with st.lock:
            exp = int(self.now() + st.acr_life)
            token = fake_jwt({"exp": exp, "grant_type": "refresh_token",
                              "aud": st.registry})
            st.refresh_tokens[token] = (st.registry, exp)
            st.issued["refresh"] += 1
        return 200, {"refresh_token": token}, None

    def issue_access(self, scope):
        st = self.state
        with st.lock:
            exp = int(self.now() + st.acr_life)
            token = fake_jwt({"exp": exp, "access": scope})
            st.access_tokens[token] = (st.registry, scope, exp)
            st.issued["access"] += 1
        return 200, {"access_token": token}, None

    def acr_token(self, query, form):
        st = self.state
        if self.command == "GET":
            auth = self.headers.get("Authorization", "")
            try:
                user, pw = base64.b64decode(auth[6:]).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                user = pw = None
            with st.lock:
                ok = (user, pw) in st.admins
            if not auth.startswith("Basic ") or not ok:
                raise acr_error(401, "UNAUTHORIZED", "authentication "
                                "required")
            return self.issue_access(query.get("scope", ""))
        if form.get("grant_type") != "refresh_token" or \
                form.get("service") != st.registry:
            raise acr_error(400, "UNSUPPORTED", "bad grant or service")
        with st.lock:
            known = st.refresh_tokens.get(form.get("refresh_token"))
        if known is None or known[1] < self.now():
            raise acr_error(401, "UNAUTHORIZED", "the refresh token is "
                            "invalid or expired")
        return self.issue_access(form.get("scope", ""))

    def challenge(self, repo, action="metadata_read"):
        host = self.headers.get("Host")
        return acr_error(401, "UNAUTHORIZED", "authentication required, "
                         "visit https://aka.ms/acr/authorization",
                         {"WWW-Authenticate": 'Bearer realm="http://%s/'
                          'oauth2/token",service="%s",scope="repository:%s:'
                          '%s"' % (host, self.state.registry, repo,
                                   action)})

    def acr_authorized(self, repo, action="metadata_read"):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with self.state.lock:
            known = self.state.access_tokens.get(auth[7:])
        if known is None or known[2] < self.now():
            return False
        for part in known[1].split(" "):
            bits = part.split(":")
            if len(bits) == 3 and bits[0] == "repository" and \
                    bits[1] == repo and action in bits[2].split(","):
                return True
        return False

    def registry_v2(self, rest):
        st = self.state
        for what in ("/manifests/", "/blobs/"):
            if what in rest:
                repo, _, ref = rest.partition(what)
                break
        else:
            raise Refused(404, {"errors": [{"code": "NOT_FOUND"}]})
        if not self.acr_authorized(repo, "pull"):
            raise self.challenge(repo, "pull")
        with st.lock:
            tags = st.repos.get(repo, {})
            if what == "/manifests/" and ref in tags:
                ref = tags[ref][0]
            blob = st.blobs.get(ref)
        if blob is None:
            raise acr_error(404, "MANIFEST_UNKNOWN" if what ==
                            "/manifests/" else "BLOB_UNKNOWN", "not found")
        self.send_response(200)
        self.send_header("Content-Type", blob[0])
        self.send_header("Content-Length", str(len(blob[1])))
        self.send_header("Docker-Content-Digest", ref)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(blob[1])
        return None, None, None

    def acr_tags(self, rest, query):
        st = self.state
        if "/_tags" not in rest:
            raise Refused(404, {"errors": [{"code": "NOT_FOUND"}]})
        repo, _, tail = rest.partition("/_tags")
        repo = urllib.parse.unquote(repo)
        if not self.acr_authorized(repo):
            raise self.challenge(repo)
        with st.lock:
            tags = st.repos.get(repo)
            tags = dict(tags) if tags is not None else None
        if tags is None:
            raise acr_error(404, "NAME_UNKNOWN", "repository name not known "
                            "to registry")

        def entry(name):
            digest, created, updated = tags[name]
            return {"name": name, "digest": digest,
                    "createdTime": iso(created),
                    "lastUpdateTime": iso(updated), "signed": False,
                    "changeableAttributes": {"deleteEnabled": True,
                                             "writeEnabled": True,
                                             "readEnabled": True,
                                             "listEnabled": True}}
        if tail.startswith("/"):
            name = urllib.parse.unquote(tail[1:])
            if name not in tags:
                raise acr_error(404, "TAG_UNKNOWN", "the specified tag does "
                                "not exist")
            return 200, {"registry": st.registry, "imageName": repo,
                         "tag": entry(name)}, None
        if query.get("orderby") != "timedesc":
            raise acr_error(400, "BAD_REQUEST", "the watcher must ask for "
                            "orderby=timedesc")
        order = sorted(tags, key=lambda t: (-tags[t][2], t))
        n = int(query.get("n", "100"))
        if st.page_size is not None:
            n = min(n, st.page_size)
        if repo in st.repo_page:
            n = min(n, st.repo_page[repo])
        start = 0
        if "last" in query:
            start = order.index(query["last"]) + 1 \
                if query["last"] in order else len(order)
        page = order[start:start + n]
        headers = {}
        if start + n < len(order):
            headers["Link"] = ('</acr/v1/%s/_tags?last=%s&n=%d&orderby='
                               'timedesc>; rel="next"'
                               % (repo, urllib.parse.quote(page[-1]), n))
        return 200, {"registry": st.registry, "imageName": repo,
                     "tags": [entry(t) for t in page]}, headers

    def feeds(self, path, query):
        st = self.state
        auth = self.headers.get("Authorization", "")
        pat = None
        if auth.startswith("Basic "):
            try:
                pat = base64.b64decode(auth[6:]).decode().split(":", 1)[1]
            except (ValueError, IndexError, UnicodeDecodeError):
                pat = None
        with st.lock:
            good = pat in st.pats
        if not good:
            if self.headers.get("X-TFS-FedAuthRedirect") == "Suppress":
                raise Refused(401, {"$id": "1", "innerException": None,
                                    "message": "TF400813: The user '' is "
                                    "not authorized to access this "
                                    "resource.", "typeName": "Microsoft."
                                    "TeamFoundation.Framework.Server."
                                    "UnauthorizedRequestException",
                                    "typeKey": "UnauthorizedRequestException",
                                    "errorCode": 0, "eventId": 3000})
            raise Refused(203, "<html><title>Sign In</title></html>")
        if not query.get("api-version"):
            raise Refused(400, {"message": "VS800059: api-version missing",
                                "typeKey": "VssVersionNotSpecifiedException"})
        head, _, tail = path.partition("/_apis/packaging/")
        scope = [urllib.parse.unquote(p) for p in head.split("/")[1:]]
        org = scope[0]
        project = scope[1] if len(scope) > 1 else None
        parts = [urllib.parse.unquote(p) for p in tail.split("/")]
        if len(parts) < 3 or parts[0] != "Feeds":
            raise Refused(404, {"message": "no such API"})
        with st.lock:
            feed = st.feeds.get((org, project, parts[1]))
            feed = {k: dict(v) for k, v in feed.items()} \
                if feed is not None else None
        if feed is None:
            raise Refused(404, {"$id": "1", "message": "VS800032: Feed with "
                                "id '%s' doesn't exist." % parts[1],
                                "typeKey": "FeedIdNotFoundException"})
        if parts[2] == "packages" and len(parts) == 3:
            want = query.get("packageNameQuery", "").lower()
            ptype = query.get("protocolType", "").lower()
            value = [{"id": p["id"], "name": name, "normalizedName":
                      name.lower(), "protocolType": p["type"],
                      "versions": []}
                     for name, p in feed.items()
                     if want in name.lower() and p["type"].lower() == ptype]
            return 200, {"count": len(value), "value": value}, None
        if parts[2] == "Packages" and len(parts) == 5 and \
                parts[4] == "versions":
            for name, p in feed.items():
                if p["id"] == parts[3]:
                    latest = max(p["versions"].values(), default=0)
                    value = [{"id": str(uuid.uuid5(uuid.NAMESPACE_OID,
                                                   name + v)),
                              "version": v, "normalizedVersion": v,
                              "isLatest": t == latest, "isListed": True,
                              "publishDate": iso(t), "storageId": "S" + v}
                             for v, t in p["versions"].items()]
                    return 200, {"count": len(value), "value": value}, None
            raise Refused(404, {"message": "VS800042: Package with id '%s' "
                                "not found" % parts[3],
                                "typeKey": "PackageNotFoundException"})
        raise Refused(404, {"message": "no such API"})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass    # a client that hung up on a huge or truncated answer


class AzureFake:
    def __init__(self):
        self.state = State()
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.state = self.state
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------- shaping

    def add_app(self, tenant, client_id, secret_or_cert):
        with self.state.lock:
            self.state.apps[(tenant, client_id)] = secret_or_cert

    def add_identity(self, client_id=None):
        with self.state.lock:
            self.state.identities[client_id] = True

    def add_admin(self, user, password):
        with self.state.lock:
            self.state.admins[(user, password)] = self.state.registry

    def tag(self, repo, name, content, updated=None, labels=None):
        """Push or re-point a tag to an image (a manifest and a config blob
        the v2 API serves, labels in the config); returns its digest."""
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "created": "2026-01-01T10:00:00Z",
                             "config": {"Labels": labels or
                                        {"content": content}}}).encode()
        cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType":
            "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType":
                       "application/vnd.docker.container.image.v1+json",
                       "size": len(config), "digest": cdigest},
            "layers": []}).encode()
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        with self.state.lock:
            self.state.blobs[cdigest] = ("application/octet-stream", config)
            self.state.blobs[digest] = (
                "application/vnd.docker.distribution.manifest.v2+json",
                manifest)
            tags = self.state.repos.setdefault(repo, {})
            now = updated if updated is not None else time.time()
            created = tags[name][1] if name in tags else now
            tags[name] = (digest, created, now)
        return digest

    def add_pat(self, pat):
        with self.state.lock:
            self.state.pats.add(pat)

    def package(self, org, project, feed, name, ptype, versions):
        """versions: {version: publish time}; returns the package id."""
        with self.state.lock:
            f = self.state.feeds.setdefault((org, project, feed), {})
            p = f.setdefault(name, {"id": str(uuid.uuid4()), "type": ptype,
                                    "versions": {}})
            p["versions"].update(versions)
            return p["id"]

    def lifetimes(self, aad=None, acr=None):
        with self.state.lock:
            if aad is not None:
                self.state.aad_life = aad
            if acr is not None:
                self.state.acr_life = acr

    def revoke_access_tokens(self):
        """The registry forgets every access token it issued (a 401 next)."""
        with self.state.lock:
            self.state.access_tokens = {}

    def set_page_size(self, n):
        with self.state.lock:
            self.state.page_size = n

    def repo_page_size(self, repo, n):
        with self.state.lock:
            self.state.repo_page[repo] = n

    def listings(self, key):
        with self.state.listing_lock:
            return list(self.state.listings.get(key, []))

    def reset_targets(self):
        """Forget every fault, repository page size and listing."""
        with self.state.lock:
            self.state.faults = []
            self.state.repo_page = {}
            self.state.listings = {}

    def fault(self, prefix, kind, count=1, retry_after=1):
        with self.state.lock:
            self.state.faults.append([prefix, kind, count, retry_after])

    def clear_faults(self):
        with self.state.lock:
            self.state.faults = []

    def issued(self, kind):
        with self.state.lock:
            return self.state.issued[kind]

    def assertions(self):
        with self.state.lock:
            return self.state.assertions

    def requests(self, prefix=""):
        with self.state.lock:
            return [(m, p, h) for m, p, h, _ in self.state.log
                    if p.startswith(prefix)]

    def timed(self, prefix=""):
        """(monotonic time, path) of each request under prefix."""
        with self.state.lock:
            return [(t, p) for _, p, _, t in self.state.log
                    if p.startswith(prefix)]
