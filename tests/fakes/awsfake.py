"""awsfake.py: a fake of the AWS APIs the Aws connector uses, for tests.

One HTTP server on a free 127.0.0.1 port answers as these services do:

- ECR (JSON 1.1, `X-Amz-Target`): DescribeImages (nextToken paging,
  maxResults 1-1000, tagStatus filter, imageIds), GetAuthorizationToken;
- EC2 (Query API, XML): DescribeImages (Owner.N, ImageId.N, Filter.N.Name /
  Filter.N.Value.M with * and ? wildcards, MaxResults, NextToken);
- STS (Query API, XML): AssumeRole, AssumeRoleWithWebIdentity,
  GetCallerIdentity;
- IMDSv2: PUT /latest/api/token, then the role credentials under
  /latest/meta-data/iam/security-credentials/.

Every signed request is checked with botocore's own SigV4 signer (Debian
python3-botocore), never with the watcher's: the fake rebuilds the request
from the headers the client says it signed and compares signatures, and
answers each service's own error (InvalidSignatureException,
SignatureDoesNotMatch, ExpiredToken, AuthFailure...) when they differ.  The
answers are checked with the vendor's client (`aws` from Debian awscli) in
tests/integration/test_aws_fakes.py: if awscli cannot read the fake, the
fake is wrong.

Faults: fault(service, kind, count) makes the next `count` requests to a
service (ecr, ec2, sts, imds) fail with `throttle` (the service's own
throttling error), `500`, `garbage`, `html`, `truncate` or `huge`.

    fake = AwsFake(); fake.start()
    fake.add_key("AKIDEXAMPLE", "secret")
    fake.ecr_image("my-app", "sha256:...", ["1.0"], pushed_at=1704103200.5)
    ...  point the watcher at fake.url with spec.endpoints ...
    fake.stop()
"""

import base64
import datetime
import fnmatch
import hashlib
import http.server
import json
import socketserver
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ECR_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACCOUNT = "123456789012"


def iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    """What the fake holds; every method takes the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}          # access key -> (secret, token, expires)
        self.ecr = {}           # repository -> [image dict]
        self.ec2 = []           # image dicts
        self.roles = {}         # role arn -> external id (or None)
        self.imds_role = None   # (name, access key)
        self.imds_tokens = set()
        self.faults = {}        # service -> [kind, count]
        self.ecr_passwords = set()  # GetAuthorizationToken's
        self.blobs = {}         # digest -> (media type, bytes)
        self.registry_log = []  # (path, authorized)
        self.repo_faults = {}   # repository -> [kind, count, retry_after]
        self.page_limit = {}    # repository -> most images a page
        self.listings = {}      # repository -> [(unix s, status)]
        self.log = []           # (service, action, access key or None)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"  # no server names the real ones leak

    def log_message(self, fmt, *args):
        pass

    # ---------------------------------------------------------- plumbing

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype, extra=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def fault(self, service):
        st = self.server.state
        with st.lock:
            rule = st.faults.get(service)
            if not rule or rule[1] == 0:
                return None
            rule[1] -= 1
            return rule[0]

    def play_fault(self, kind, service):
        if kind == "throttle":
            raise {
                "ecr": AwsError(400, "ThrottlingException", "Rate exceeded"),
                "ec2": AwsError(503, "RequestLimitExceeded",
                                "Request limit exceeded."),
                "sts": AwsError(400, "Throttling", "Rate exceeded"),
                "imds": AwsError(429, "Throttling", "Too many requests"),
            }[service]
        if kind == "500":
            raise AwsError(500, "InternalError", "We encountered an "
                           "internal error. Please try again.")
        if kind == "garbage":
            self.send(200, b"\x00\xffnot json nor xml{<", "application/json")
        elif kind == "html":
            self.send(200, "<html><body>Sign in</body></html>", "text/html")
        elif kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"imageDetails":[{"imageDigest":"sha')
            self.close_connection = True
        elif kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            size = 80 * 1024 * 1024
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
        return True

    def error(self, service, e, headers=None):
        if service == "ecr":
            body = json.dumps({"__type": e.code, "message": e.message})
            self.send(e.status, body, "application/x-amz-json-1.1")
        elif service == "ec2":
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>"
                    "<Errors><Error><Code>%s</Code><Message>%s</Message>"
                    "</Error></Errors><RequestID>%s</RequestID></Response>"
                    % (e.code, escape(e.message), uuid.uuid4()))
            self.send(e.status, body, "text/xml;charset=UTF-8", headers)
        elif service == "sts":
            body = ("<ErrorResponse xmlns=\"%s\"><Error><Type>Sender</Type>"
                    "<Code>%s</Code><Message>%s</Message></Error>"
                    "<RequestId>%s</RequestId></ErrorResponse>"
                    % (STS_NS, e.code, escape(e.message), uuid.uuid4()))
            self.send(e.status, body, "text/xml")
        else:
            self.send(e.status, e.message, "text/plain")

    # ------------------------------------------------------- signatures

    def verify(self, service, body, region_needed=True):
        """Check SigV4 with botocore; returns the access key."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise AwsError(403 if service != "ec2" else 401,
                           "MissingAuthenticationToken" if service != "ec2"
                           else "AuthFailure",
                           "Request is missing Authentication Token")
        fields = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v
        try:
            akid, date, region, svc, term = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            got = fields["Signature"]
        except (KeyError, ValueError):
            raise AwsError(400, "IncompleteSignature",
                           "Authorization header is malformed")
        st = self.server.state
        with st.lock:
            key = st.keys.get(akid)
        if key is None:
            raise AwsError(403, {"ecr": "UnrecognizedClientException",
                                 "ec2": "AuthFailure",
                                 "sts": "InvalidClientTokenId"}[service],
                           "The security token included in the request is "
                           "invalid.")
        secret, token, expires = key
        if svc != service or term != "aws4_request":
            raise AwsError(403, "SignatureDoesNotMatch",
                           "Credential should be scoped to correct service: "
                           "'%s'." % service)
        amz_date = self.headers.get("X-Amz-Date", "")
        if not amz_date.startswith(date):
            raise AwsError(403, "SignatureDoesNotMatch",
                           "Date in Credential scope does not match "
                           "YYYYMMDD from ISO-8601 version of date")
        if "host" not in signed or "x-amz-date" not in signed:
            raise AwsError(403, "SignatureDoesNotMatch",
                           "host and x-amz-date must be signed")
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        headers = {}
        for name in signed:
            value = self.headers.get_all(name)
            if value is None:
                raise AwsError(403, "SignatureDoesNotMatch",
                               "signed header %s is missing" % name)
            headers[name] = ",".join(v.strip() for v in value)
        req = AWSRequest(method=self.command, url=url, headers=headers,
                         data=body)
        req.context["timestamp"] = amz_date
        cls = S3SigV4Auth if service == "s3" else SigV4Auth
        signer = cls(Credentials(akid, secret, token), service, region)
        creq = signer.canonical_request(req)
        want = signer.signature(signer.string_to_sign(req, creq), req)
        with st.lock:
            st.log.append((service, self.action, akid, want == got))
        if want != got:
            code = {"ecr": "InvalidSignatureException"}.get(
                service, "SignatureDoesNotMatch")
            raise AwsError(403, code, "The request signature we calculated "
                           "does not match the signature you provided. "
                           "The Canonical String for this request should "
                           "have been\n'%s'" % creq)
        if token is not None and \
                self.headers.get("X-Amz-Security-Token") != token:
            raise AwsError(403, "UnrecognizedClientException"
                           if service == "ecr" else "InvalidClientTokenId",
                           "The security token included in the request is "
                           "invalid.")
        if token is not None and "x-amz-security-token" not in signed:
            raise AwsError(403, "SignatureDoesNotMatch",
                           "x-amz-security-token must be signed")
        if expires is not None and expires < datetime.datetime.now(
                datetime.timezone.utc).timestamp():
            raise AwsError(400 if service != "ec2" else 401,
                           "ExpiredTokenException" if service == "ecr"
                           else "ExpiredToken" if service == "sts"
                           else "RequestExpired",
                           "The security token included in the request is "
                           "expired")
        return akid

    # --------------------------------------------------------- dispatch

    def do_PUT(self):
        self.action = "imds"
        if self.path == "/latest/api/token":
            self.body()
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit():
                self.send(400, "", "text/plain")
                return
            tok = base64.b64encode(uuid.uuid4().bytes).decode()
            with self.server.state.lock:
                self.server.state.imds_tokens.add(tok)
            self.send(200, tok, "text/plain",
                      {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
            return
        self.send(404, "", "text/plain")

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path.startswith("/latest/"):
            self.imds(parsed.path)
            return
        if parsed.path.startswith("/v2/"):
            self.registry(parsed.path)
            return
        self.query_api(urllib.parse.parse_qs(parsed.query,
                                             keep_blank_values=True), b"")

    def do_POST(self):
        body = self.body()
        target = self.headers.get("X-Amz-Target")
        if target:
            self.ecr(target, body)
            return
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            self.action = "?"
            self.error("sts", AwsError(400, "InvalidAction",
                                       "unsupported content type"))
            return
        self.query_api(urllib.parse.parse_qs(body.decode(),
                                             keep_blank_values=True), body)

    def query_api(self, params, body):
        action = (params.get("Action") or [""])[0]
        self.action = action
        service = "ec2" if action == "DescribeImages" else "sts"
        try:
            kind = self.fault(service)
            if kind and self.play_fault(kind, service):
                return
            if action == "AssumeRoleWithWebIdentity":
                self.sts_web_identity(params)     # not signed, by design
                return
            akid = self.verify(service, body)
            if action == "DescribeImages" and self.ec2_target_fault(params):
                return
            if action == "DescribeImages":
                self.ec2_describe(params)
            elif action == "AssumeRole":
                self.sts_assume(params)
            elif action == "GetCallerIdentity":
                self.sts_caller(akid)
            else:
                raise AwsError(400, "InvalidAction",
                               "The action %s is not valid" % action)
        except AwsError as e:
            self.error(service, e)

    # -------------------------------------------------------------- ECR

    def ecr(self, target, body):
        op = target[len(ECR_PREFIX):] if target.startswith(ECR_PREFIX) \
            else None
        self.action = op or target
        req = None
        try:
            kind = self.fault("ecr")
            if kind and self.play_fault(kind, "ecr"):
                return
            if not self.headers.get("Content-Type", "").startswith(
                    "application/x-amz-json-1.1"):
                raise AwsError(400, "SerializationException",
                               "wrong content type")
            self.verify("ecr", body)
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                raise AwsError(400, "SerializationException",
                               "Start of structure or map found where not "
                               "expected.")
            if op == "DescribeImages" and self.repo_fault(req):
                return
            if op == "DescribeImages":
                out = self.ecr_describe(req)
                self.listed(req, 200)
            elif op == "GetAuthorizationToken":
                out = self.ecr_token()
            else:
                raise AwsError(400, "UnknownOperationException", "")
            self.send(200, json.dumps(out), "application/x-amz-json-1.1")
        except AwsError as e:
            if op == "DescribeImages" and isinstance(req, dict):
                self.listed(req, e.status)
            self.error("ecr", e)

    def listed(self, req, status):
        st = self.server.state
        with st.lock:
            st.listings.setdefault(req.get("repositoryName"), []).append(
                (time.time(), status))

    def repo_fault(self, req):
        """A fault set on this repository's listing: played, True."""
        st = self.server.state
        name = req.get("repositoryName")
        with st.lock:
            rule = st.repo_faults.get(name)
            if not rule or rule[1] == 0:
                return False
            rule[1] -= 1
            kind, retry_after = rule[0], rule[2]
        if kind == "429":
            self.listed(req, 429)
            self.send(429, json.dumps({"__type": "ThrottlingException",
                                       "message": "Rate exceeded"}),
                      "application/x-amz-json-1.1",
                      {"Retry-After": retry_after or "1"})
            return True
        self.listed(req, 200)
        return self.play_fault(kind, "ecr")

    def ecr_describe(self, req):
        name = req.get("repositoryName")
        st = self.server.state
        with st.lock:
            images = st.ecr.get(name)
            images = list(images) if images is not None else None
        if images is None:
            raise AwsError(400, "RepositoryNotFoundException",
                           "The repository with name '%s' does not exist in "
                           "the registry with id '%s'"
                           % (name, req.get("registryId", ACCOUNT)))
        if req.get("imageIds") and ("maxResults" in req or
                                    "nextToken" in req):
            raise AwsError(400, "InvalidParameterException",
                           "Invalid parameter at 'imageIds' failed to "
                           "satisfy constraint: 'maxResults and nextToken "
                           "cannot be set with imageIds'")
        status = (req.get("filter") or {}).get("tagStatus", "ANY")
        if status == "TAGGED":
            images = [i for i in images if i["tags"]]
        elif status == "UNTAGGED":
            images = [i for i in images if not i["tags"]]
        limit = req.get("maxResults", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise AwsError(400, "InvalidParameterException",
                           "maxResults must be between 1 and 1000")
        with st.lock:
            limit = min(limit, st.page_limit.get(name, limit))
        start = 0
        if req.get("nextToken"):
            try:
                start = int(json.loads(base64.b64decode(
                    req["nextToken"]))["o"])
            except (ValueError, KeyError, TypeError):
                raise AwsError(400, "InvalidParameterException",
                               "Invalid NextToken")
        page = images[start:start + limit]
        details = []
        for i in page:
            d = {"registryId": ACCOUNT, "repositoryName": name,
                 "imageDigest": i["digest"],
                 "imageSizeInBytes": i["size"],
                 "imagePushedAt": i["pushed_at"],
                 "imageManifestMediaType":
                     "application/vnd.docker.distribution.manifest.v2+json",
                 "artifactMediaType":
                     "application/vnd.docker.container.image.v1+json"}
            if i["tags"]:
                d["imageTags"] = list(i["tags"])
            details.append(d)
        out = {"imageDetails": details}
        if start + limit < len(images):
            out["nextToken"] = base64.b64encode(json.dumps(
                {"o": start + limit, "r": name}).encode()).decode()
        return out

    def ecr_token(self):
        password = base64.b64encode(uuid.uuid4().bytes).decode()
        with self.server.state.lock:
            self.server.state.ecr_passwords.add(password)
        expires = datetime.datetime.now(
            datetime.timezone.utc).timestamp() + 12 * 3600
        host = self.headers.get("Host")
        return {"authorizationData": [{
            "authorizationToken": base64.b64encode(
                ("AWS:" + password).encode()).decode(),
            "expiresAt": round(expires, 3),
            "proxyEndpoint": "http://%s" % host}]}

    def registry(self, path):
        """ECR's registry API: Basic "AWS:<password of a token>"."""
        self.action = "registry"
        st = self.server.state
        auth = self.headers.get("Authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(
                    ":")
                with st.lock:
                    ok = user == "AWS" and pw in st.ecr_passwords
            except ValueError:
                ok = False
        with st.lock:
            st.registry_log.append((path, ok))
        if not ok:
            self.send(401, json.dumps({"errors": [{
                "code": "DENIED", "message": "Your authorization token "
                "has expired. Reauthenticate and try again."}]}),
                "application/json", {"WWW-Authenticate": 'Basic realm="'
                'https://%s/",service="ecr.amazonaws.com"' % ACCOUNT})
            return
        ref = path.rsplit("/", 1)[-1]
        with st.lock:
            blob = st.blobs.get(ref)
            if blob is None and "/manifests/" in path:
                repo = path[len("/v2/"):path.index("/manifests/")]
                for i in st.ecr.get(repo, []):
                    if ref in i["tags"]:
                        blob = st.blobs.get(i["digest"])
        if blob is None:
            self.send(404, json.dumps({"errors": [{
                "code": "MANIFEST_UNKNOWN" if "/manifests/" in path else
                "BLOB_UNKNOWN", "message": "not found"}]}),
                "application/json")
            return
        media, data = blob
        self.send(200, data, media,
                  {"Docker-Content-Digest": "sha256:" +
                   hashlib.sha256(data).hexdigest()})

    # -------------------------------------------------------------- EC2

    def ec2_describe(self, params):
        def indexed(prefix):
            out = {}
            for k, v in params.items():
                if k.startswith(prefix):
                    out[k[len(prefix):]] = v[0]
            return out

        owners = list(indexed("Owner.").values())
        ids = list(indexed("ImageId.").values())
        if ids and "MaxResults" in params:
            raise AwsError(400, "InvalidParameterCombination",
                           "The parameter ImageIds cannot be used with "
                           "the parameter MaxResults")
        filters = {}
        for k, v in indexed("Filter.").items():
            n, _, rest = k.partition(".")
            if rest == "Name":
                filters.setdefault(n, [None, []])[0] = v
            elif rest.startswith("Value."):
                filters.setdefault(n, [None, []])[1].append(v)
        st = self.server.state
        with st.lock:
            images = [dict(i) for i in st.ec2]
        out = []
        for i in images:
            if owners and not any(o in (i["owner"], "self") for o in owners):
                continue
            if ids and i["id"] not in ids:
                continue
            if not all(self.ec2_match(i, name, values)
                       for name, values in filters.values()):
                continue
            out.append(i)
        try:
            limit = int(params.get("MaxResults", ["1000"])[0])
            start = int(params.get("NextToken", ["0"])[0] or 0)
        except ValueError:
            raise AwsError(400, "InvalidParameterValue",
                           "Invalid value for MaxResults or NextToken")
        if not 5 <= limit <= 1000:
            raise AwsError(400, "InvalidParameterValue",
                           "Value (%d) for parameter maxResults is invalid. "
                           "Expecting a value between 5 and 1000." % limit)
        with self.server.state.lock:
            limit = min(limit, self.server.state.page_limit.get(
                ("ec2", self.ec2_target(params)), limit))
        page = out[start:start + limit]
        items = []
        for i in page:
            tags = "".join("<item><key>%s</key><value>%s</value></item>"
                           % (escape(k), escape(v))
                           for k, v in i["tags"].items())
            items.append(
                "<item><imageId>%s</imageId><imageLocation>%s/%s"
                "</imageLocation><imageState>%s</imageState>"
                "<imageOwnerId>%s</imageOwnerId><creationDate>%s"
                "</creationDate><isPublic>false</isPublic>"
                "<architecture>x86_64</architecture><imageType>machine"
                "</imageType><name>%s</name><description>%s</description>"
                "<rootDeviceType>ebs</rootDeviceType><virtualizationType>hvm"
                "</virtualizationType><tagSet>%s</tagSet>"
                "<hypervisor>xen</hypervisor></item>"
                % (i["id"], i["owner"], escape(i["name"]), i["state"],
                   i["owner"], iso(i["created"]), escape(i["name"]),
                   escape(i.get("description", "")), tags))
        token = ""
        if start + limit < len(out):
            token = "<nextToken>%d</nextToken>" % (start + limit)
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<DescribeImagesResponse xmlns=\"%s\"><requestId>%s"
                "</requestId><imagesSet>%s</imagesSet>%s"
                "</DescribeImagesResponse>"
                % (EC2_NS, uuid.uuid4(), "".join(items), token))
        self.send(200, body, "text/xml;charset=UTF-8")

    @staticmethod
    def ec2_target(params):
        """The value of the first tag:Conf filter: a test's target."""
        for k, v in params.items():
            if k.endswith(".Name") and k.startswith("Filter.") and \
                    v[0] == "tag:Conf":
                return (params.get(k[:-len("Name")] + "Value.1") or
                        [None])[0]
        return None

    def ec2_target_fault(self, params):
        target = self.ec2_target(params)
        st = self.server.state
        with st.lock:
            rule = st.repo_faults.get(("ec2", target))
            if not rule or rule[1] == 0:
                st.listings.setdefault(("ec2", target), []).append(
                    (time.time(), 200))
                return False
            rule[1] -= 1
            kind, retry_after = rule[0], rule[2]
            st.listings.setdefault(("ec2", target), []).append(
                (time.time(), 429 if kind == "429" else 200))
        if kind == "429":
            self.error("ec2", AwsError(429, "RequestLimitExceeded",
                                       "Request limit exceeded."),
                       {"Retry-After": retry_after or "1"})
            return True
        return self.play_fault(kind, "ec2")

    @staticmethod
    def ec2_match(image, name, values):
        if name == "name":
            field = image["name"]
        elif name == "image-id":
            field = image["id"]
        elif name in ("owner-id",):
            field = image["owner"]
        elif name == "state":
            field = image["state"]
        elif name and name.startswith("tag:"):
            field = image["tags"].get(name[4:])
            if field is None:
                return False
        elif name == "tag-key":
            return any(v in image["tags"] for v in values)
        else:
            raise AwsError(400, "InvalidParameterValue",
                           "The filter '%s' is invalid" % name)
        return any(fnmatch.fnmatchcase(field, v) for v in values)

    # -------------------------------------------------------------- STS

    def credentials_xml(self, akid, secret, token, expires):
        return ("<Credentials><AccessKeyId>%s</AccessKeyId>"
                "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s"
                "</SessionToken><Expiration>%s</Expiration></Credentials>"
                % (akid, escape(secret), escape(token), iso(expires)))

    def issue(self, seconds):
        akid = "ASIA" + uuid.uuid4().hex[:16].upper()
        secret = base64.b64encode(uuid.uuid4().bytes * 2).decode()
        token = base64.b64encode(uuid.uuid4().bytes * 4).decode()
        expires = datetime.datetime.now(
            datetime.timezone.utc).timestamp() + seconds
        with self.server.state.lock:
            self.server.state.keys[akid] = (secret, token, expires)
        return akid, secret, token, expires

    def sts_assume(self, params):
        arn = (params.get("RoleArn") or [""])[0]
        st = self.server.state
        with st.lock:
            known = arn in st.roles
            external = st.roles.get(arn)
            seconds = st.session_seconds
        if not known:
            raise AwsError(403, "AccessDenied", "User is not authorized to "
                           "perform: sts:AssumeRole on resource: %s" % arn)
        if external is not None and \
                (params.get("ExternalId") or [""])[0] != external:
            raise AwsError(403, "AccessDenied", "User is not authorized to "
                           "perform: sts:AssumeRole on resource: %s" % arn)
        name = (params.get("RoleSessionName") or [""])[0]
        if not name:
            raise AwsError(400, "ValidationError", "1 validation error "
                           "detected: Value null at 'roleSessionName' "
                           "failed to satisfy constraint: Member must not "
                           "be null")
        akid, secret, token, expires = self.issue(seconds)
        body = ("<AssumeRoleResponse xmlns=\"%s\"><AssumeRoleResult>"
                "<AssumedRoleUser><AssumedRoleId>AROA:%s</AssumedRoleId>"
                "<Arn>%s/%s</Arn></AssumedRoleUser>%s</AssumeRoleResult>"
                "<ResponseMetadata><RequestId>%s</RequestId>"
                "</ResponseMetadata></AssumeRoleResponse>"
                % (STS_NS, escape(name), escape(arn), escape(name),
                   self.credentials_xml(akid, secret, token, expires),
                   uuid.uuid4()))
        self.send(200, body, "text/xml")

    def sts_web_identity(self, params):
        arn = (params.get("RoleArn") or [""])[0]
        token = (params.get("WebIdentityToken") or [""])[0]
        st = self.server.state
        with st.lock:
            ok = arn in st.roles and token == st.web_identity_token
            seconds = st.session_seconds
            st.log.append(("sts", "AssumeRoleWithWebIdentity", None, ok))
        if not ok:
            raise AwsError(400, "InvalidIdentityToken",
                           "Couldn't retrieve verification key from your "
                           "identity provider")
        akid, secret, tok, expires = self.issue(seconds)
        body = ("<AssumeRoleWithWebIdentityResponse xmlns=\"%s\">"
                "<AssumeRoleWithWebIdentityResult>"
                "<SubjectFromWebIdentityToken>system:serviceaccount"
                "</SubjectFromWebIdentityToken>"
                "<AssumedRoleUser><AssumedRoleId>AROA:web</AssumedRoleId>"
                "<Arn>%s/web</Arn></AssumedRoleUser>%s"
                "</AssumeRoleWithWebIdentityResult><ResponseMetadata>"
                "<RequestId>%s</RequestId></ResponseMetadata>"
                "</AssumeRoleWithWebIdentityResponse>"
                % (STS_NS, escape(arn),
                   self.credentials_xml(akid, secret, tok, expires),
                   uuid.uuid4()))
        self.send(200, body, "text/xml")

    def sts_caller(self, akid):
        body = ("<GetCallerIdentityResponse xmlns=\"%s\">"
                "<GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/test"
                "</Arn><UserId>%s</UserId><Account>%s</Account>"
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>%s"
                "</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
                % (STS_NS, ACCOUNT, akid, ACCOUNT, uuid.uuid4()))
        self.send(200, body, "text/xml")

    # ------------------------------------------------------------- IMDS

    def imds(self, path):
        self.action = "imds"
        st = self.server.state
        kind = self.fault("imds")
        try:
            if kind and self.play_fault(kind, "imds"):
                return
        except AwsError as e:
            self.error("imds", e)
            return
        with st.lock:
            ok = self.headers.get("X-aws-ec2-metadata-token") in \
                st.imds_tokens
            role = st.imds_role
            seconds = st.session_seconds
        if not ok:
            self.send(401, "", "text/plain")
            return
        base = "/latest/meta-data/iam/security-credentials/"
        if role is None or not path.startswith(base):
            self.send(404, "", "text/plain")
            return
        if path == base:
            self.send(200, role, "text/plain")
            return
        if path[len(base):] != role:
            self.send(404, "", "text/plain")
            return
        akid, secret, token, expires = self.issue(seconds)
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        self.send(200, json.dumps({
            "Code": "Success", "LastUpdated": iso(now), "Type": "AWS-HMAC",
            "AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
            "Expiration": iso(expires)}), "text/plain")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class AwsFake:
    """The fake on a free loopback port; set state with the methods."""

    def __init__(self):
        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.state = State()
        self.server.state.session_seconds = 3600
        self.server.state.web_identity_token = None
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

    @property
    def state(self):
        return self.server.state

    def add_key(self, akid, secret, token=None, expires=None):
        with self.state.lock:
            self.state.keys[akid] = (secret, token, expires)

    def ecr_repo(self, name):
        with self.state.lock:
            self.state.ecr.setdefault(name, [])

    def ecr_image(self, repo, digest, tags, pushed_at, size=1000):
        """Add an image, or move tags: a tag lives on one image only."""
        with self.state.lock:
            images = self.state.ecr.setdefault(repo, [])
            for i in images:
                i["tags"] = [t for t in i["tags"] if t not in tags]
            for i in images:
                if i["digest"] == digest:
                    i["tags"] += tags
                    return
            images.append({"digest": digest, "tags": list(tags),
                           "pushed_at": pushed_at, "size": size})

    def ecr_image_with_labels(self, repo, tags, labels, pushed_at,
                              created="2024-01-01T09:00:00Z"):
        """An image whose manifest and config blob the registry serves;
        its digest is the manifest's."""
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "created": created,
                             "config": {"Labels": labels}}).encode()
        cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2"
                         "+json",
            "config": {"mediaType": "application/vnd.docker.container."
                       "image.v1+json", "size": len(config),
                       "digest": cdigest},
            "layers": []}).encode()
        mdigest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        with self.state.lock:
            self.state.blobs[cdigest] = ("application/octet-stream", config)
            self.state.blobs[mdigest] = (
                "application/vnd.docker.distribution.manifest.v2+json",
                manifest)
        self.ecr_image(repo, mdigest, tags, pushed_at, size=len(manifest))
        return mdigest

    def registry_requests(self):
        with self.state.lock:
            return list(self.state.registry_log)

    def ec2_image(self, image_id, name, created, owner=ACCOUNT,
                  state="available", tags=None, description=""):
        with self.state.lock:
            self.state.ec2 = [i for i in self.state.ec2
                              if i["id"] != image_id]
            self.state.ec2.append({"id": image_id, "name": name,
                                   "created": created, "owner": owner,
                                   "state": state, "tags": tags or {},
                                   "description": description})

    def role(self, arn, external_id=None):
        with self.state.lock:
            self.state.roles[arn] = external_id

    def web_identity(self, token):
        with self.state.lock:
            self.state.web_identity_token = token

    def imds_role(self, name):
        with self.state.lock:
            self.state.imds_role = name

    def session_seconds(self, seconds):
        """How long issued temporary credentials last."""
        with self.state.lock:
            self.state.session_seconds = seconds

    def ecr_reset(self):
        """Forget every repository, its faults and its listings."""
        with self.state.lock:
            self.state.ecr = {}
            self.state.repo_faults = {}
            self.state.page_limit = {}
            self.state.listings = {}

    def ecr_page_limit(self, repo, n):
        """At most n images a DescribeImages page of repo (real ECR may
        answer fewer than maxResults, with a nextToken)."""
        with self.state.lock:
            self.state.page_limit[repo] = n

    def ecr_fault(self, repo, kind, count=-1, retry_after=None):
        """Fault the listings of repo: 429 (with Retry-After), garbage,
        html, truncate, huge, throttle, 500; count -1: until cleared."""
        with self.state.lock:
            self.state.repo_faults[repo] = [kind, count, retry_after]

    def ec2_fault(self, target, kind, count=-1, retry_after=None):
        """Fault the DescribeImages whose tag:Conf filter is target."""
        with self.state.lock:
            self.state.repo_faults[("ec2", target)] = [kind, count,
                                                       retry_after]

    def ec2_page_limit(self, target, n):
        with self.state.lock:
            self.state.page_limit[("ec2", target)] = n

    def ec2_listings(self, target):
        with self.state.lock:
            return list(self.state.listings.get(("ec2", target), []))

    def ec2_reset(self):
        with self.state.lock:
            self.state.ec2 = []
            for key in [k for k in self.state.repo_faults
                        if isinstance(k, tuple)]:
                del self.state.repo_faults[key]

    def ecr_listings(self, repo):
        """(unix s, status) of each DescribeImages of repo."""
        with self.state.lock:
            return list(self.state.listings.get(repo, []))

    def expire_temporary_keys(self):
        """Every temporary key issued so far is expired from now on."""
        with self.state.lock:
            for akid, (secret, token, expires) in list(
                    self.state.keys.items()):
                if token is not None:
                    self.state.keys[akid] = (secret, token, 1.0)

    def fault(self, service, kind, count=1):
        with self.state.lock:
            self.state.faults[service] = [kind, count]

    def requests(self):
        """(service, action, access key, signature ok) of signed calls."""
        with self.state.lock:
            return list(self.state.log)


def digest_of(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
