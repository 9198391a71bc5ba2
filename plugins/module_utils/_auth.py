# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: credentials (client secret, certificate, access token, managed identity) and tokens.

msal is imported only when a token really has to be fetched, so a cached token costs no import and no sign-in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import time

from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderAuthError,
    DefenderError,
    DefenderTransportError,
    DefenderUnsafeResponseError,
    describe_transport_error,
    redact_url,
)
from ansible_collections.secops.defender.plugins.module_utils._retries import (
    backoff_delay,
    parse_retry_after,
    rate_limit_delay,
)
from ansible_collections.secops.defender.plugins.module_utils._token_cache import TokenCache, cache_key
from ansible_collections.secops.defender.plugins.module_utils._transport import (
    DEFAULT_MAX_RESPONSE_MB,
    BodyTooLarge,
    DeadlinePassed,
    origin,
    read_body,
    url_problem,
)

AUTH_METHODS = ("auto", "client_secret", "certificate", "access_token", "managed_identity")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8") if not isinstance(text, bytes) else text).hexdigest()


class MsalHttpClient:
    """The http_client MSAL calls. It passes `verify` on every request, because REQUESTS_CA_BUNDLE would
    silently override a CA bundle set on the session (psf/requests#3829).

    Sign-in is safe to repeat, so a 429, a 5xx, a dropped connection or an unreadable answer is retried with
    backoff (Retry-After honoured), a few times and within `max_wait` seconds. What is left is raised as a
    DefenderAuthError that names the host, the status and the correlation id: never an exception from inside MSAL.

    The secret never travels further than the authority: no redirect is followed (a 307 would re-send the POST,
    secret and all, wherever it points), and with `authority_url` every URL MSAL asks for (the discovery document's
    token_endpoint too) must be on the authority's scheme, host and port. Answers are bounded like the API's."""

    ATTEMPTS = 4

    def __init__(self, session, verify, timeout, max_wait=120, sleep=time.sleep, authority_url=None,
                 max_response_mb=DEFAULT_MAX_RESPONSE_MB, clock=time.monotonic):
        self._session = session
        self._verify = verify
        self._timeout = timeout
        self._max_wait = max_wait
        self._sleep = sleep
        self._authority = authority_url
        self._max_bytes = int(max_response_mb * 1024 * 1024)
        self._clock = clock
        self.retries = 0  # counted for the tests

    def get(self, url, params=None, headers=None, **kwargs):
        return self._call("GET", url, params=params, headers=headers)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self._call("POST", url, params=params, data=data, headers=headers)

    def _check_url(self, url):
        """Refuse, before sending, a sign-in URL off the authority's host (or one whose host is ambiguous)."""
        problem = url_problem(url)
        if problem is None and self._authority and origin(url) != origin(self._authority):
            problem = "%s is not on the sign-in host %s" % (_where(url), _where(self._authority))
        if problem:
            raise DefenderUnsafeResponseError(
                "Sign-in refused to send the credential to %s: %s." % (redact_url(url), problem),
                code="ForeignSignInHost", path=redact_url(url),
                hint="The sign-in discovery document (or a proxy) named another host. Check authority_url and "
                     "cloud, and any proxy (HTTPS_PROXY); nothing was sent there.")

    def _send(self, method, url, kwargs):
        """One request, no redirect followed, its answer read within size and time bounds."""
        deadline = self._clock() + self._timeout
        response = self._session.request(method, url, verify=self._verify, timeout=self._timeout,
                                         allow_redirects=False, stream=True, **kwargs)
        try:
            # As in the API client: requests keeps a read body in _content, so MSAL's .text and .json() work.
            response._content = read_body(response, self._max_bytes, deadline, self._clock)
        except (BodyTooLarge, DeadlinePassed) as exc:
            response.close()
            raise DefenderTransportError("Sign-in failed: the answer of %s was %s." % (
                redact_url(url), "too large" if isinstance(exc, BodyTooLarge) else "not complete within timeout"),
                code="SignInAnswerRefused", path=redact_url(url))
        if 300 <= response.status_code < 400:
            target = response.headers.get("Location") or ""
            raise DefenderUnsafeResponseError(
                "Sign-in at %s was redirected (%d) to %s; refusing to follow, since the credential would go with it."
                % (_where(url), response.status_code, _where(target) if target else "nowhere"),
                status=response.status_code, code="SignInRedirected", method=method, path=redact_url(url),
                hint="Microsoft sign-in does not redirect a token request; a proxy or a wrong authority_url does. "
                     "The credential was not sent to the redirect target.")
        return response

    def _call(self, method, url, **kwargs):
        import requests  # deferred like msal: only sign-in needs it here
        self._check_url(url)
        waited = 0.0
        for attempt in range(1, self.ATTEMPTS + 1):
            problem, retry_after, response = None, None, None
            try:
                response = self._send(method, url, kwargs)
            except requests.exceptions.SSLError as exc:  # not transient: say so at once
                raise DefenderTransportError("Sign-in failed: " + describe_transport_error(exc, url))
            except requests.exceptions.RequestException as exc:
                problem = describe_transport_error(exc, url)
            else:
                problem, retry_after = _sign_in_problem(response)
                if problem is None:
                    return response
            delay = rate_limit_delay(retry_after, attempt) if retry_after is not None else backoff_delay(attempt)
            if attempt == self.ATTEMPTS or waited + delay > self._max_wait:
                break
            self.retries += 1
            waited += delay
            self._sleep(delay)
        correlation = None
        if response is not None:
            correlation = response.headers.get("x-ms-request-id") or response.headers.get("client-request-id")
        raise DefenderAuthError("Sign-in failed: %s (gave up after %d attempts in %d s)." % (problem, attempt, waited),
                                status=getattr(response, "status_code", None), correlation_id=correlation,
                                code="SignInUnavailable",
                                method=method, path=redact_url(url),
                                hint="The identity service had a transient problem; run the task again. Any action "
                                     "already submitted goes on in Defender.")

    def close(self):
        pass


def _where(url):
    """scheme://host:port of a URL, for messages: which host, never which path or query."""
    try:
        scheme, host, port = origin(url)
    except ValueError:
        return "an unreadable URL"
    if not host:  # a relative Location
        return url.split("?", 1)[0][:80]
    return "%s://%s:%d" % (scheme, host, port)


def _sign_in_problem(response):
    """(what is wrong with a sign-in answer that is worth retrying, Retry-After) or (None, None)."""
    status = response.status_code
    if status == 429 or status >= 500:
        return ("%s answered %d" % (redact_url(response.url or ""), status),
                parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None)
    if status < 300 or status in (400, 401):
        # MSAL reads these bodies as JSON (a 400/401 carries the AADSTS error): an unreadable one is a fault.
        try:
            response.json()
        except ValueError:
            return ("%s answered %d with a body that is not JSON" % (redact_url(response.url or ""), status), None)
    return None, None


class Credential:
    method = None

    def __init__(self, options, endpoints):
        self.options = options
        self.endpoints = endpoints

    @property
    def authority(self):
        return "%s/%s" % (self.endpoints["authority_url"], self.options.get("tenant_id"))

    def validate(self):
        missing = [name for name in self.required if not self.options.get(name)]
        if missing:
            raise DefenderAuthError(
                "auth_method %s needs %s. Set the option(s), or the environment variables listed in the module "
                "documentation (DEFENDER_*, AZURE_*)." % (self.method, " and ".join(missing)))

    required = ()

    def fingerprint(self):
        """Identifies the credential in the cache key, without storing anything secret."""
        return ""

    def acquire(self, http_client):
        """Return (access_token, expires_on epoch seconds)."""
        raise NotImplementedError

    def _confidential_client(self, credential, http_client):
        import msal  # deferred: only needed when a token must be fetched
        try:
            return msal.ConfidentialClientApplication(
                self.options["client_id"], client_credential=credential, authority=self.authority,
                http_client=http_client, instance_discovery=False, token_cache=msal.TokenCache())
        except ValueError as exc:
            raise DefenderAuthError("Sign-in discovery at %s failed: %s. Check tenant_id and authority_url."
                                    % (self.authority, str(exc).split("\n", 1)[0][:300]))

    def _from_msal_result(self, result):
        if "access_token" not in result:
            description = (result.get("error_description") or "").split("\r\n")[0].split(" Trace ID")[0]
            if description.strip() in ("", "None", "None, None"):
                description = "the identity service gave no reason"
            raise DefenderAuthError(
                "Sign-in as client %s in tenant %s failed: %s: %s" % (
                    self.options.get("client_id"), self.options.get("tenant_id"), result.get("error"), description),
                code=result.get("error"), correlation_id=result.get("correlation_id"),
                hint="Check tenant_id, client_id and the credential, and that the scope %s is right for this cloud."
                     % self.endpoints["scope"])
        return result["access_token"], time.time() + int(result.get("expires_in", 3599))


class ClientSecretCredential(Credential):
    method = "client_secret"
    required = ("tenant_id", "client_id", "client_secret")

    def fingerprint(self):
        return _sha256("secret:" + self.options["client_secret"])

    def acquire(self, http_client):
        app = self._confidential_client(self.options["client_secret"], http_client)
        return self._from_msal_result(app.acquire_token_for_client(scopes=[self.endpoints["scope"]]))


class CertificateCredential(Credential):
    method = "certificate"
    required = ("tenant_id", "client_id", "certificate_path")

    def _read(self):
        path = self.options["certificate_path"]
        try:
            with open(path, "r") as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            raise DefenderAuthError("Cannot read certificate_path %s: %s" % (path, exc.strerror))
        key = cert = None
        for match in _PEM_BLOCK.finditer(text):
            if "PRIVATE KEY" in match.group(1):
                key = key or match.group(0)
            elif match.group(1) == "CERTIFICATE":
                cert = cert or match.group(0)
        if not key or not cert:
            raise DefenderAuthError("certificate_path %s must be a PEM file holding both the private key and the "
                                    "certificate (found %s)." % (path, "a key only" if key else
                                                                 "a certificate only" if cert else "neither"))
        return key, cert

    def fingerprint(self):
        return _sha256("cert:" + self._read()[1])

    def acquire(self, http_client):
        key, cert = self._read()
        credential = {"private_key": key, "public_certificate": cert}
        if self.options.get("certificate_password"):
            credential["passphrase"] = self.options["certificate_password"]
        try:
            app = self._confidential_client(credential, http_client)
            return self._from_msal_result(app.acquire_token_for_client(scopes=[self.endpoints["scope"]]))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, DefenderAuthError):
                raise
            # Never echo key material: say what is wrong, not what was read.
            raise DefenderAuthError("The private key in %s could not be used (%s). If it is encrypted, set "
                                    "certificate_password." % (self.options["certificate_path"], type(exc).__name__))


class AccessTokenCredential(Credential):
    method = "access_token"
    required = ("access_token",)

    def acquire(self, http_client):
        return self.options["access_token"], None


class ManagedIdentityCredential(Credential):
    method = "managed_identity"

    def fingerprint(self):
        return "mi:" + (self.options.get("managed_identity_client_id") or "system")

    def acquire(self, http_client):
        import msal  # deferred
        client_id = self.options.get("managed_identity_client_id")
        identity = (msal.UserAssignedManagedIdentity(client_id=client_id) if client_id
                    else msal.SystemAssignedManagedIdentity())
        mi_app = msal.ManagedIdentityClient(identity, http_client=http_client, token_cache=msal.TokenCache())
        resource = self.endpoints["scope"][: -len("/.default")] if self.endpoints["scope"].endswith("/.default") \
            else self.endpoints["scope"]
        try:
            result = mi_app.acquire_token_for_client(resource=resource)
        except msal.ManagedIdentityError as exc:
            raise DefenderAuthError("Managed identity sign-in is not available here: %s" % exc)
        return self._from_msal_result(result)


_BY_METHOD = dict((cls.method, cls) for cls in (ClientSecretCredential, CertificateCredential,
                                                AccessTokenCredential, ManagedIdentityCredential))


def select_credential(options, endpoints):
    """Pick the credential: an explicit auth_method, else the first of access_token, certificate, secret."""
    method = options.get("auth_method") or "auto"
    if method == "auto":
        if options.get("access_token"):
            method = "access_token"
        elif options.get("certificate_path"):
            method = "certificate"
        elif options.get("client_secret"):
            method = "client_secret"
        else:
            raise DefenderAuthError(
                "No credential was given. Set client_secret (DEFENDER_CLIENT_SECRET, AZURE_CLIENT_SECRET or "
                "AZURE_SECRET), certificate_path (DEFENDER_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_CERTIFICATE_PATH) "
                "or access_token (DEFENDER_ACCESS_TOKEN), or set auth_method=managed_identity.")
    credential = _BY_METHOD[method](options, endpoints)
    credential.validate()
    return credential


class TokenProvider:
    """Hands out a bearer token: from the shared cache while it is fresh, else from sign-in."""

    def __init__(self, credential, http_client, cache=None):
        self.credential = credential
        self.http_client = http_client
        self.cache = cache
        self.sign_ins = 0  # counted for the benchmark and the tests
        self._token = None
        self._key = None

    def _cache_key(self):
        if self._key is None:
            opts = self.credential.options
            self._key = cache_key(self.credential.authority, opts.get("tenant_id"), opts.get("client_id"),
                                  self.credential.endpoints["scope"], self.credential.fingerprint())
        return self._key

    def token(self):
        if self._token:
            return self._token
        if self.cache is None or self.credential.method == "access_token":
            self._token = self._sign_in()[0]
            return self._token
        with self.cache.locked():
            cached = self.cache.get(self._cache_key())
            if cached:
                self._token = cached
                return cached
            token, expires_on = self._sign_in()
            self.cache.put(self._cache_key(), token, expires_on)
        self._token = token
        return token

    def refresh(self, rejected=None):
        """After a 401: forget the rejected token and get another. False if that is impossible.

        The cached entry is dropped only if it still holds the rejected token; another task may already have
        put a fresh one there, which is then used as it is."""
        if self.credential.method == "access_token":
            return False
        self._token = None
        if self.cache is None:
            self.token()
            return True
        with self.cache.locked():
            if self.cache.peek(self._cache_key()) in (rejected, None):
                token, expires_on = self._sign_in()
                self.cache.put(self._cache_key(), token, expires_on)
                self._token = token
        self.token()
        return True

    def _sign_in(self):
        self.sign_ins += 1
        try:
            return self.credential.acquire(self.http_client)
        except DefenderError:
            raise
        except Exception as exc:  # MSAL's own surprises: say what failed, never echo what it read
            raise DefenderAuthError("Sign-in as client %s in tenant %s failed inside MSAL (%s)." % (
                self.credential.options.get("client_id"), self.credential.options.get("tenant_id"),
                type(exc).__name__), hint="Run the task again; if it persists, check authority_url and the "
                                          "credential.")


def make_cache(enabled, directory=None):
    return TokenCache(directory) if enabled else None
