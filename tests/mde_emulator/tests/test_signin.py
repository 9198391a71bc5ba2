"""Sign-in as MSAL needs it: discovery, client secret, certificate assertion, managed identity, token lifetime."""

import time

import jwt
import msal
import pytest
import requests
import trustme

from conftest import advance
from mde_emulator.testclient import READER, RESPONDER, WS1, Client


class VerifyingHttpClient:
    def __init__(self, verify):
        self.session = requests.Session()
        self.verify = verify

    def get(self, url, params=None, headers=None, **kwargs):
        return self.session.get(url, params=params, headers=headers, verify=self.verify, timeout=10)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self.session.post(url, params=params, data=data, headers=headers, verify=self.verify, timeout=10)

    def close(self):
        self.session.close()


def test_discovery_document(client):
    info = client.info
    doc = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (info["authority_url"], info["tenant_id"]),
                       verify=client.verify, timeout=10).json()
    assert doc["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (info["authority_url"], info["tenant_id"])
    assert "authorization_endpoint" in doc


def test_msal_acquires_a_token_that_the_api_accepts(client):
    info = client.info
    app = msal.ConfidentialClientApplication(
        RESPONDER[0], client_credential=RESPONDER[1], authority="%s/%s" % (info["authority_url"], info["tenant_id"]),
        instance_discovery=False, http_client=VerifyingHttpClient(client.verify))
    result = app.acquire_token_for_client(scopes=[info["scope"]])
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert "Machine.LiveResponse" in claims["roles"]
    response = client.get("/api/machines", headers={"Authorization": "Bearer " + result["access_token"]})
    assert response.status_code == 200


def test_wrong_secret_is_401_with_aadsts_body(client):
    response = client.token(app=(RESPONDER[0], "wrong"))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215")
    assert body["correlation_id"]


def test_unknown_scope_is_invalid_scope(client):
    response = client.token(scope="https://example.invalid/.default")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_unknown_client_is_refused(client):
    response = client.token(app=("99999999-9999-4999-8999-999999999999", "x"))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_token_for_the_wrong_audience_gets_403(client):
    token = client.token(scope="https://api.security.microsoft.com/.default").json()["access_token"]
    response = client.get("/api/machines", headers={"Authorization": "Bearer " + token})
    assert response.status_code == 403
    assert "audience" in response.json()["error"]["message"]


def test_missing_role_is_403_naming_the_permission(emu):
    reader = Client(emu, app=READER)
    response = reader.live_response()
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Forbidden"
    assert "Machine.LiveResponse" in error["message"]
    assert reader.get("/api/machines").status_code == 200


def _certificate_app(client, tmp_path):
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = ca.issue_cert("secops-cert-app", key_type=trustme.KeyType.RSA)
    cert_pem = leaf.cert_chain_pems[0].bytes().decode()
    key_pem = leaf.private_key_pem.bytes().decode()
    client.control("POST", "/seed", {"apps": [{"client_id": "44444444-4444-4444-8444-444444444444",
                                               "certificate": cert_pem, "roles": ["Machine.Read.All"]}]})
    return cert_pem, key_pem


def test_certificate_assertion_signed_by_msal_is_accepted(client, tmp_path):
    cert_pem, key_pem = _certificate_app(client, tmp_path)
    info = client.info
    app = msal.ConfidentialClientApplication(
        "44444444-4444-4444-8444-444444444444",
        client_credential={"private_key": key_pem, "public_certificate": cert_pem},
        authority="%s/%s" % (info["authority_url"], info["tenant_id"]), instance_discovery=False,
        http_client=VerifyingHttpClient(client.verify))
    result = app.acquire_token_for_client(scopes=[info["scope"]])
    assert "access_token" in result, result


def _assertion(key_pem, headers, audience, client_id="44444444-4444-4444-8444-444444444444"):
    now = int(time.time())
    return jwt.encode({"aud": audience, "iss": client_id, "sub": client_id, "jti": str(now), "nbf": now,
                       "exp": now + 600}, key_pem, algorithm="RS256", headers=headers)


def _thumbprint(cert_pem):
    from mde_emulator.tokens import thumbprints
    return thumbprints(cert_pem)[1]


def test_assertion_checks_signature_audience_and_thumbprint(client, tmp_path):
    cert_pem, key_pem = _certificate_app(client, tmp_path)
    info = client.info
    endpoint = "%s/%s/oauth2/v2.0/token" % (info["authority_url"], info["tenant_id"])

    def ask(assertion):
        return requests.post(endpoint, verify=client.verify, timeout=10, data={
            "grant_type": "client_credentials", "client_id": "44444444-4444-4444-8444-444444444444",
            "scope": info["scope"], "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

    good = ask(_assertion(key_pem, {"x5t": _thumbprint(cert_pem)}, endpoint))
    assert good.status_code == 200, good.text
    wrong_aud = ask(_assertion(key_pem, {"x5t": _thumbprint(cert_pem)}, "https://elsewhere/token"))
    assert wrong_aud.status_code == 401
    other_key = trustme.CA().issue_cert("x", key_type=trustme.KeyType.RSA).private_key_pem.bytes().decode()
    forged = ask(_assertion(other_key, {"x5t": _thumbprint(cert_pem)}, endpoint))
    assert forged.status_code == 401
    assert "signature" in forged.json()["error_description"]
    unknown_cert = ask(_assertion(key_pem, {"x5t": "AAAA"}, endpoint))
    assert unknown_cert.status_code == 401


def test_token_lifetime_runs_on_the_emulated_clock(client):
    client.control("POST", "/settings", {"token_lifetime_seconds": 60})
    headers = {"Authorization": "Bearer " + client.token().json()["access_token"]}
    assert client.get("/api/machines", headers=headers).status_code == 200
    advance(client, 61)
    response = client.get("/api/machines", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_expire_all_tokens(client):
    headers = {"Authorization": "Bearer " + client.token().json()["access_token"]}
    assert client.get("/api/machines", headers=headers).status_code == 200
    assert client.control("POST", "/tokens/expire")["expired"] >= 1
    assert client.get("/api/machines", headers=headers).status_code == 401


def test_managed_identity_endpoint(client):
    info = client.info
    url = info["identity_endpoint"]
    params = {"api-version": "2019-08-01", "resource": "https://api.securitycenter.microsoft.com"}
    refused = requests.get(url, params=params, verify=client.verify, timeout=10)
    assert refused.status_code == 401
    ok = requests.get(url, params=params, headers={"X-IDENTITY-HEADER": info["identity_header"]},
                      verify=client.verify, timeout=10)
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    assert client.get("/api/machines/%s" % WS1, headers={"Authorization": "Bearer " + token}).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_api_without_a_valid_token_is_401(client, header):
    response = client.get("/api/machines", headers={"Authorization": header} if header else {"X": "y"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Unauthorized"
