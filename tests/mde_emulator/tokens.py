"""Sign-in: OIDC discovery, client-credential tokens (secret or certificate assertion), managed identity."""

import base64
import hashlib
import secrets
import threading
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .clock import iso

LEGACY_RESOURCE = "https://api.securitycenter.microsoft.com"
# Resources the emulated API accepts as its audience, and ones sign-in knows but the API refuses.
# The scope one curl sample uses (Learn: api/exposed-apis-create-app-webapp#use-curl); the API accepts its tokens too.
ALTERNATIVE_SCOPE_RESOURCE = "https://securitycenter.onmicrosoft.com/windowsatpservice"
API_AUDIENCES = (LEGACY_RESOURCE, "https://api-gcc.securitycenter.microsoft.us",
                 "https://api-gov.securitycenter.microsoft.us", ALTERNATIVE_SCOPE_RESOURCE)
OTHER_KNOWN = ("https://api.security.microsoft.com", "https://graph.microsoft.com")


class SignInError(Exception):
    def __init__(self, status, error, aadsts, description):
        super().__init__(description)
        self.status = status
        self.body = {
            "error": error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (
                aadsts, description, uuid.uuid4(), uuid.uuid4(), iso(time.time())),
            "error_codes": [aadsts],
            "timestamp": iso(time.time()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


def thumbprints(cert_pem):
    cert = x509.load_pem_x509_certificate(cert_pem.encode() if isinstance(cert_pem, str) else cert_pem)
    der = cert.public_bytes(Encoding.DER)

    def enc(digest):
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return cert, enc(hashlib.sha1(der).digest()), enc(hashlib.sha256(der).digest())


class TokenService:
    def __init__(self, tenant):
        self.tenant = tenant
        self._key = secrets.token_bytes(32)
        self._issued = {}
        self._lock = threading.Lock()
        self.identity_header = secrets.token_hex(16)

    def resource_for_scope(self, scope):
        for item in (scope or "").split():
            if item.endswith("/.default"):
                resource = item[: -len("/.default")].rstrip("/")
                if resource in API_AUDIENCES + OTHER_KNOWN:
                    return resource
        raise SignInError(400, "invalid_scope", 1002012,
                          "The provided value for scope %s is not valid. Client credential flows must have a "
                          "scope value with /.default suffixed to the resource identifier (application ID URI)." % scope)

    def client_credentials(self, form, token_endpoint):
        if form.get("grant_type") != "client_credentials":
            raise SignInError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        app = self.tenant.apps.get(client_id)
        if app is None:
            raise SignInError(400, "unauthorized_client", 700016,
                              "Application with identifier '%s' was not found in the directory '%s'."
                              % (client_id, self.tenant.tenant_id))
        resource = self.resource_for_scope(form.get("scope"))
        if form.get("client_assertion"):
            self._check_assertion(app, form.get("client_assertion"), token_endpoint)
        elif form.get("client_secret") is not None:
            if not app.secret or not secrets.compare_digest(app.secret, form["client_secret"]):
                raise SignInError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                                  "being sent in the request is the client secret value, not the client secret ID.")
        else:
            raise SignInError(400, "invalid_request", 7000218, "The request body must contain the following "
                              "parameter: 'client_assertion' or 'client_secret'.")
        return self.issue(app, resource)

    def _check_assertion(self, app, assertion, token_endpoint):
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise SignInError(401, "invalid_client", 700027, "Client assertion is not a valid JWT: %s" % exc)
        for cert_pem in app.certificates:
            cert, sha1_tp, sha256_tp = thumbprints(cert_pem)
            # Padding is optional in base64url; MSAL keeps it.
            if (header.get("x5t") or "").rstrip("=") == sha1_tp or \
                    (header.get("x5t#S256") or "").rstrip("=") == sha256_tp:
                try:
                    claims = jwt.decode(assertion, cert.public_key(), algorithms=["RS256", "PS256"],
                                        audience=token_endpoint, issuer=app.client_id)
                except jwt.InvalidAudienceError:
                    raise SignInError(401, "invalid_client", 700212,
                                      "No matching federated identity record found for presented assertion audience.")
                except jwt.PyJWTError as exc:
                    raise SignInError(401, "invalid_client", 700027,
                                      "Client assertion failed signature validation: %s" % exc)
                if claims.get("sub") != app.client_id:
                    raise SignInError(401, "invalid_client", 700023, "Client assertion subject is not the client.")
                return
        raise SignInError(401, "invalid_client", 700027, "The certificate with identifier used to sign the client "
                          "assertion is not registered on application.")

    def managed_identity(self, args, headers):
        if headers.get("X-IDENTITY-HEADER") != self.identity_header:
            raise SignInError(401, "invalid_request", 90002, "Missing or wrong X-IDENTITY-HEADER.")
        wanted = args.get("client_id")
        for app in self.tenant.apps.values():
            if app.managed_identity and (app.client_id == wanted or (not wanted and app.managed_identity == "system")):
                resource = self.resource_for_scope(args.get("resource", "").rstrip("/") + "/.default")
                token = self.issue(app, resource)
                return {"access_token": token["access_token"], "token_type": "Bearer", "resource": resource,
                        "expires_on": str(int(time.time()) + token["expires_in"]), "client_id": app.client_id}
        raise SignInError(400, "invalid_request", 700016, "No managed identity matches client_id %r." % wanted)

    def issue(self, app, resource):
        lifetime = int(self.tenant.settings["token_lifetime_seconds"])
        now = self.tenant.clock.now()
        jti = str(uuid.uuid4())
        claims = {"aud": resource, "iss": "https://sts.windows.net/%s/" % self.tenant.tenant_id,
                  "tid": self.tenant.tenant_id, "appid": app.client_id, "roles": list(app.roles),
                  "iat": int(now), "nbf": int(now), "exp": int(now + lifetime), "jti": jti}
        token = jwt.encode(claims, self._key, algorithm="HS256")
        with self._lock:
            self._issued[jti] = app.client_id
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    def validate(self, token):
        """Return (app, claims) or raise ValueError with the reason."""
        try:
            # Expiry is checked below against the emulated clock, not the real one.
            unchecked = {"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False}
            claims = jwt.decode(token, self._key, algorithms=["HS256"], options=unchecked)
        except jwt.PyJWTError:
            raise ValueError("the token is not one this tenant issued")
        with self._lock:
            if claims.get("jti") not in self._issued:
                raise ValueError("the token was revoked")
        if claims["exp"] <= self.tenant.clock.now():
            raise ValueError("the token has expired")
        app = self.tenant.apps.get(claims["appid"])
        if app is None:
            raise ValueError("the app no longer exists")
        return app, claims

    def expire_all(self):
        with self._lock:
            count = len(self._issued)
            self._issued.clear()
        return count
