"""Wires the tenant, sign-in, API, blob host and control API into two HTTPS servers on 127.0.0.1."""

import base64
import copy
import hashlib
import hmac
import json
import os
import secrets
import socket
import ssl
import tempfile
import threading
import time
import uuid

import trustme
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import control, hunting
from .api import Api, check_link, link_query, rate_class, sign

PACKAGE_PATH = "/safedownload/WDATP_Investigation_Package.zip"
from .clock import Clock
from .errors import ApiError, error_response, json_response
from .faults import DropConnection, Faults
from .ratelimit import RateLimiter
from .settings import merge
from .state import Tenant
from .tokens import API_AUDIENCES, SignInError, TokenService

SECRET_FORM_FIELDS = ("client_secret", "client_assertion")


class _Handler(WSGIRequestHandler):
    """Quiet, and able to drop a connection on purpose."""

    def connection_dropped(self, error, environ=None):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_request(self, code="-", size="-"):
        pass


class RequestLog:
    def __init__(self):
        self._entries = []
        self._lock = threading.Lock()

    def add(self, entry):
        with self._lock:
            entry["seq"] = len(self._entries) + 1
            self._entries.append(entry)
        return entry

    def entries(self):
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self):
        with self._lock:
            self._entries.clear()


class Emulator:
    """One emulated tenant. `start()` serves it; tests may also use its objects directly."""

    def __init__(self, seed=None, state_dir=None):
        seed = seed or {}
        self._seed = copy.deepcopy(seed)   # what reset() starts again from
        self.control_key = seed.get("control_key") or secrets.token_urlsafe(24)
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="mde-emulator-")
        os.makedirs(self.state_dir, exist_ok=True)
        self.api_url = self.blob_url = None
        self._servers = []
        self._new_tenant(seed)

    def _new_tenant(self, seed):
        self.settings = merge(seed.get("settings"))
        self.clock = Clock(speed=self.settings["clock_speed"])
        self.tenant = Tenant(seed.get("tenant_id") or str(uuid.uuid4()), self.clock, self.settings)
        self.tokens = TokenService(self.tenant)
        self.limiter = RateLimiter(self.settings["rate_limits"])
        self.faults = Faults()
        self.aliases = {}   # ids answered by a rewrite fault with alias -> the real ids
        self.log = RequestLog()
        self.leaks = []
        self._link_key = secrets.token_bytes(32)
        self.api = Api(self)
        control.seed(self, seed)

    def reset(self):
        """The tenant as the seed made it, again (POST /_emulator/reset): actions, alerts, library, indicators,
        tokens, clock, rate counters, faults and the log start afresh. The ports, the CA, the control key and the
        tenant id stay, so a client keeps its connection settings; a token it cached gets a 401 and signs in again."""
        seed = copy.deepcopy(self._seed)
        if not seed.get("tenant_id"):
            seed["tenant_id"] = self.tenant.tenant_id
        with self.tenant.lock:
            self._new_tenant(seed)

    # --- serving -------------------------------------------------------------------------------
    def start(self, port=0, blob_port=0):
        ca = self._certificate_authority()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ssl_context)
        api_server = make_server("127.0.0.1", port, self._wsgi_main, threaded=True,
                                 request_handler=_Handler, ssl_context=ssl_context)
        blob_server = make_server("127.0.0.1", blob_port, self._wsgi_blob, threaded=True,
                                  request_handler=_Handler, ssl_context=ssl_context)
        self.api_url = "https://127.0.0.1:%d" % api_server.server_port
        self.blob_url = "https://127.0.0.1:%d" % blob_server.server_port
        for server in (api_server, blob_server):
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._servers.append((server, thread))
        return self

    def _certificate_authority(self):
        """The CA that signs the servers' certificate: the one in the state folder (ca.pem and its key, ca-key.pem)
        when both are there, so that a client that trusts it keeps trusting restarts; else a new one, kept there."""
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        key_path = os.path.join(self.state_dir, "ca-key.pem")
        if os.path.exists(self.ca_path) and os.path.exists(key_path):
            with open(self.ca_path, "rb") as cert_file, open(key_path, "rb") as key_file:
                try:
                    return trustme.CA.from_pem(cert_file.read(), key_file.read())
                except (TypeError, ValueError) as exc:
                    raise ValueError("%s and %s are not a CA certificate and its key (%s): remove both and a new "
                                     "CA is made" % (self.ca_path, key_path, exc))
        ca = trustme.CA()
        _write_private(key_path, ca.private_key_pem.bytes())
        _write_private(self.ca_path, ca.cert_pem.bytes(), mode=0o644)
        return ca

    def stop(self):
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self._servers = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def app_credentials(self):
        """The seeded apps with what a client needs of each: client id, name, roles, and secret or identity."""
        apps = []
        for app in self.tenant.apps.values():
            entry = {"client_id": app.client_id, "name": app.name, "roles": app.roles}
            if app.secret:
                entry["client_secret"] = app.secret
            if app.managed_identity:
                entry["managed_identity"] = app.managed_identity
            apps.append(entry)
        return apps

    def info(self):
        """What a client needs to connect: printed as one JSON line by the command line."""
        apps = self.app_credentials()
        return {
            "api_url": self.api_url,
            "authority_url": self.api_url,
            "blob_url": self.blob_url,
            "control_url": self.api_url + "/_emulator",
            "control_key": self.control_key,
            "ca_path": self.ca_path,
            "tenant_id": self.tenant.tenant_id,
            "scope": API_AUDIENCES[0] + "/.default",
            "identity_endpoint": self.api_url + "/msi/token",
            "identity_header": self.tokens.identity_header,
            "apps": apps,
        }

    def blob_link(self, path):
        full = "/blobs/" + path
        return "%s%s?%s" % (self.blob_url, full,
                            link_query(self._link_key, full, self.clock.now(), self.settings["link_lifetime_seconds"]))

    def package_link(self, action_id):
        """getPackageUri's link, shaped as documented: not a blob SAS, a short-lived token on a safedownload path."""
        expiry = int(self.clock.now() + self.settings["package_link_lifetime_seconds"])
        token = base64.urlsafe_b64encode(("%s.%d.%s" % (action_id, expiry, sign(
            self._link_key, PACKAGE_PATH + action_id, expiry))).encode()).decode().rstrip("=")
        return "%s%s?token=%s" % (self.blob_url, PACKAGE_PATH, token)

    # --- the main host: sign-in, API, control --------------------------------------------------
    def _wsgi_main(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.lower().startswith("/api/") or path.lower() == "/api":
            path = "/api" + path[4:]
        # Control calls stay out of the log, so tests read only what the client did.
        entry = {} if path.startswith("/_emulator") else self._entry("api", request, path)
        try:
            response = self._dispatch(request, path, entry)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.headers)
            entry["error"] = exc.code   # which refusal, for whoever reads the log (benchmarks, tests)
        except DropConnection:
            entry["dropped"] = True
            entry["status"] = entry.get("status") or "dropped"
            raise
        entry["status"] = response.status_code
        return response(environ, start_response)

    def _entry(self, host, request, path):
        entry = {"time": time.time(), "clock": self.clock.now(), "host": host, "method": request.method,
                 "path": path, "authorization": "Authorization" in request.headers, "status": None,
                 "user_agent": request.headers.get("User-Agent", "")}
        if host == "api" and request.args and not path.startswith("/blobs"):
            entry["query"] = {k: v for k, v in request.args.items() if k not in ("sig",)}
        if request.method in ("POST", "PUT", "PATCH"):
            entry["body"] = self._loggable_body(request)
        if host == "api" and path.lower().startswith("/api/advancedqueries/"):
            entry["hunting_query"] = hunting.received_query(request)   # whatever the Content-Type, in full
        return self.log.add(entry)

    @staticmethod
    def _loggable_body(request):
        if request.mimetype == "application/json":
            try:
                return json.loads(request.get_data(as_text=True))
            except ValueError:
                return request.get_data(as_text=True)[:2000]
        if request.mimetype == "application/x-www-form-urlencoded":
            return {k: ("***" if k in SECRET_FORM_FIELDS else v) for k, v in request.form.items()}
        if request.mimetype == "multipart/form-data":
            body = dict(request.form.items())
            for key, upload in request.files.items():
                data = upload.read()
                upload.stream.seek(0)
                body[key] = {"filename": upload.filename, "size": len(data)}
            return body
        return None

    def _apply_fault(self, host, request, path):
        fault = self.faults.take(host, request.method, path)
        if not fault:
            return None, None
        if fault["kind"] == "hang":
            time.sleep(fault["delay"])
            return None, None
        if fault["kind"] == "drop":
            raise DropConnection("fault: drop before processing")
        if host == "api" and fault["kind"] in ("malformed", "corrupt"):
            return None, "malformed"  # handled, then the answer is garbled on the way back
        if fault["kind"] == "malformed":
            return Response('{"value": [ {"id": ', status=200, mimetype="application/json"), None
        if fault["kind"] in ("corrupt", "zeroed"):
            return None, fault["kind"]
        if fault["kind"] == "drop_after":
            return None, "drop_after"
        if fault["kind"] == "rewrite":
            return None, fault
        headers = {}
        if fault["status"] == 429:
            headers["Retry-After"] = str(fault["retry_after"] if fault["retry_after"] is not None else 1)
        # A rule may name its error; a mix's drawn faults (and rules of older callers) leave the code to the status.
        code = fault.get("code") or {429: "TooManyRequests", 500: "InternalServerError",
                                     503: "ServiceUnavailable"}.get(fault["status"], "InternalServerError")
        return error_response(fault["status"], code, fault.get("message") or "Injected fault", headers), None

    def _dispatch(self, request, path, entry):
        if path.startswith("/_emulator"):
            return control.handle(self, request, path)
        response, after = self._apply_fault("api", request, path)
        if response is not None:
            return response
        for alias, real in list(self.aliases.items()):  # a rewritten id, asked for: the real one is meant
            path = path.replace(alias, real)
        if path == "/msi/token":
            response = self._sign_in(lambda: self.tokens.managed_identity(request.args, request.headers))
        elif "/oauth2/v2.0/token" in path or "/.well-known/openid-configuration" in path:
            response = self._login(request, path)
        elif path.startswith("/api/"):
            response = self._api(request, path, entry)
        else:
            raise ApiError(404, "NotFound", "No resource at %s" % path)
        if after == "malformed":
            entry["status"] = response.status_code
            entry["malformed"] = True
            return Response('{"value": [ {"id": ', status=200, mimetype="application/json")
        if after == "drop_after":
            entry["status"] = response.status_code
            entry["dropped"] = True
            raise DropConnection("fault: drop after processing")
        if isinstance(after, dict):
            entry["rewritten"] = after["field"]
            return rewrite(response, after["field"], after["value"], self.aliases if after["alias"] else None)
        return response

    def _login(self, request, path):
        tenant = path.strip("/").split("/")[0]
        if tenant.lower() not in (self.tenant.tenant_id.lower(), "organizations", "common"):
            return json_response({"error": "invalid_tenant",
                                  "error_description": "AADSTS90002: Tenant '%s' not found." % tenant}, 400)
        base = "%s/%s" % (self.api_url, self.tenant.tenant_id)
        if path.endswith("/.well-known/openid-configuration"):
            return json_response({
                "issuer": "%s/v2.0" % base,
                "token_endpoint": "%s/oauth2/v2.0/token" % base,
                "authorization_endpoint": "%s/oauth2/v2.0/authorize" % base,
                "device_authorization_endpoint": "%s/oauth2/v2.0/devicecode" % base,
                "jwks_uri": "%s/discovery/v2.0/keys" % base,
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "tenant_region_scope": "EU",
            })
        if request.method != "POST":
            raise ApiError(405, "MethodNotAllowed", "Use POST")
        token_endpoint = "%s/oauth2/v2.0/token" % base
        return self._sign_in(lambda: self.tokens.client_credentials(request.form, token_endpoint))

    @staticmethod
    def _sign_in(call):
        try:
            return json_response(call())
        except SignInError as exc:
            return json_response(exc.body, exc.status)

    def _api(self, request, path, entry):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(401, "Unauthorized", "Authorization header with a bearer token is required")
        try:
            app, claims = self.tokens.validate(header[len("Bearer "):])
        except ValueError as exc:
            raise ApiError(401, "Unauthorized", "The access token is not valid: %s" % exc)
        entry["app"] = app.client_id
        if claims.get("aud") not in API_AUDIENCES:
            raise ApiError(403, "Forbidden", "The token's audience %s is not this API; request a token for "
                                             "%s/.default" % (claims.get("aud"), API_AUDIENCES[0]))
        klass = rate_class(path, request.method, self.tenant.settings["rate_pool"])
        who = self.tenant.tenant_id if klass in hunting.TENANT_WIDE_CLASSES else app.client_id
        wait, calls, window = self.limiter.check_window(who, klass)
        if wait and klass == hunting.RATE_CLASS:
            raise hunting.call_quota_error(wait, calls, window)
        if wait:
            raise ApiError(429, "TooManyRequests", "Rate limit is exceeded. Try again in %d seconds." % wait,
                           headers={"Retry-After": str(wait)})
        return self.api.handle(request, app, path)

    # --- the blob host -------------------------------------------------------------------------
    def _wsgi_blob(self, environ, start_response):
        request = Request(environ)
        entry = self._entry("blob", request, request.path)
        response = self._blob(request, entry)
        entry["status"] = response.status_code
        return response(environ, start_response)

    def _package(self, request, entry, after):
        try:
            token = request.args.get("token", "")
            action_id, expiry, signature = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(".")
            expiry = int(expiry)
        except (ValueError, UnicodeDecodeError):
            return Response("<Error><Code>AuthenticationFailed</Code><Message>bad token</Message></Error>", 403,
                            mimetype="application/xml")
        if not hmac.compare_digest(sign(self._link_key, PACKAGE_PATH + action_id, expiry), signature):
            return Response("<Error><Code>AuthenticationFailed</Code></Error>", 403, mimetype="application/xml")
        if self.clock.now() > expiry:
            return Response("<Error><Code>AuthenticationFailed</Code><Message>the link expired</Message></Error>",
                            403, mimetype="application/xml")
        with self.tenant.lock:
            try:
                data = self.tenant.package_bytes(self.tenant.get_action(action_id))
            except ApiError:
                return Response("<Error><Code>BlobNotFound</Code></Error>", 404, mimetype="application/xml")
        return _served(data, "application/zip", entry, after)

    def _blob(self, request, entry):
        fault_response, after = self._apply_fault("blob", request, request.path)
        if fault_response is not None:
            return fault_response
        if "Authorization" in request.headers:
            self.leaks.append({"path": request.path, "time": time.time()})
            return Response("<Error><Code>InvalidAuthenticationInfo</Code><Message>Authorization header is not "
                            "allowed with a SAS</Message></Error>", 403, mimetype="application/xml")
        if request.path == PACKAGE_PATH:
            return self._package(request, entry, after)
        problem = check_link(self._link_key, request.path, request.args, self.clock.now())
        if problem:
            return Response("<Error><Code>AuthenticationFailed</Code><Message>%s</Message></Error>" % problem,
                            403, mimetype="application/xml")
        parts = request.path.split("/")
        with self.tenant.lock:
            try:
                if parts[2] != "liveresponse":  # result links only; packages have their own links
                    raise IndexError(parts[2])
                data, mimetype = self.tenant.command_result(self.tenant.get_action(parts[3]), int(parts[4]))
            except (ApiError, IndexError, ValueError):
                return Response("<Error><Code>BlobNotFound</Code></Error>", 404, mimetype="application/xml")
        return _served(data, mimetype, entry, after)


def _write_private(path, data, mode=0o600):
    """Write a file whole or not at all (a temporary file renamed over it), readable by its owner only by default."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _served(data, mimetype, entry, after):
    """A download as storage serves it, with the MD5 it stored at upload. A corrupt fault keeps the real headers
    (type, MD5) and garbles the body, as a broken proxy or a bad disk would."""
    if after == "zeroed":   # damaged at rest: the storage's MD5 is of the damaged bytes
        middle = len(data) // 2
        data = data[:middle] + b"\x00" * 64 + data[middle + 64:]
        entry["corrupted"] = True
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(data).digest()).decode("ascii")}
    if after == "corrupt":
        data = data[: len(data) // 2] or b"\x00"
        entry["corrupted"] = True
    return Response(data, 200, mimetype=mimetype, headers=headers)


def rewrite(response, field, value, aliases=None):
    """A hostile answer: the JSON body with `field` set to `value` (in each item of a list's `value`). With
    `aliases`, each replaced value is remembered, so that a request for `value` reaches the real one."""
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return response
    items = body["value"] if isinstance(body, dict) and isinstance(body.get("value"), list) else [body]
    for item in items:
        if isinstance(item, dict):
            if aliases is not None and isinstance(item.get(field), str) and isinstance(value, str) and value:
                aliases[value] = item[field]
            item[field] = value
    return Response(json.dumps(body), status=response.status_code, mimetype="application/json")
