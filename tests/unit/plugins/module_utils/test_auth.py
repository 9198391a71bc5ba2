"""Credentials, method selection, environment fallbacks, clouds, and the shared token cache."""

import importlib.util
import os
import stat

import pytest
import trustme
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from cryptography.hazmat.primitives import serialization

from ansible_collections.secops.defender.plugins.module_utils._auth import select_credential
from ansible_collections.secops.defender.plugins.module_utils._cloud import endpoints
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderAuthError
from ansible_collections.secops.defender.plugins.module_utils._connection import AUTH_ARGSPEC, auth_options, build_client
from ansible_collections.secops.defender.plugins.module_utils._token_cache import TokenCache

from .conftest import RESPONDER

URLS = endpoints("commercial")


def _select(**options):
    base = {"tenant_id": "t", "client_id": "c"}
    base.update(options)
    return select_credential(base, URLS)


def test_auto_prefers_token_then_certificate_then_secret():
    assert _select(access_token="x", certificate_path="/p", client_secret="s").method == "access_token"
    assert _select(certificate_path="/p", client_secret="s").method == "certificate"
    assert _select(client_secret="s").method == "client_secret"
    assert _select(client_secret="s", auth_method="managed_identity").method == "managed_identity"


def test_missing_credentials_say_what_to_set():
    with pytest.raises(DefenderAuthError) as info:
        _select()
    assert "AZURE_SECRET" in str(info.value) and "DEFENDER_CLIENT_SECRET" in str(info.value)
    with pytest.raises(DefenderAuthError) as info:
        select_credential({"client_secret": "s", "auth_method": "client_secret"}, URLS)
    assert "tenant_id and client_id" in str(info.value)


ENV_NAMES = ["DEFENDER_TENANT_ID", "AZURE_TENANT_ID", "AZURE_TENANT", "DEFENDER_CLIENT_ID", "AZURE_CLIENT_ID",
             "DEFENDER_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "DEFENDER_CLOUD", "DEFENDER_API_URL",
             "DEFENDER_TOKEN_CACHE"]


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _validated(args):
    result = ArgumentSpecValidator(AUTH_ARGSPEC).validate(args)
    assert not result.error_messages, result.error_messages
    return auth_options(result.validated_parameters)


def test_awx_azure_credential_names_are_understood(clean_env):
    clean_env.setenv("AZURE_TENANT", "awx-tenant")
    clean_env.setenv("AZURE_CLIENT_ID", "awx-client")
    clean_env.setenv("AZURE_SECRET", "awx-secret")
    options = _validated({})
    assert (options["tenant_id"], options["client_id"], options["client_secret"]) == (
        "awx-tenant", "awx-client", "awx-secret")


def test_defender_names_win_over_azure_names_and_args_win_over_both(clean_env):
    clean_env.setenv("AZURE_TENANT_ID", "azure")
    clean_env.setenv("AZURE_TENANT", "awx")
    clean_env.setenv("DEFENDER_TENANT_ID", "defender")
    assert _validated({})["tenant_id"] == "defender"
    assert _validated({"tenant_id": "arg"})["tenant_id"] == "arg"
    clean_env.delenv("DEFENDER_TENANT_ID")
    assert _validated({})["tenant_id"] == "azure"


def test_defaults_apply_after_environment(clean_env):
    options = _validated({})
    assert options["cloud"] == "commercial" and options["token_cache"] is True and options["timeout"] == 30
    clean_env.setenv("DEFENDER_CLOUD", "gcc_high")
    clean_env.setenv("DEFENDER_TOKEN_CACHE", "false")
    options = _validated({})
    assert options["cloud"] == "gcc_high" and options["token_cache"] is False


def test_secrets_are_no_log():
    for name in ("client_secret", "certificate_password", "access_token"):
        assert AUTH_ARGSPEC[name]["no_log"] is True


@pytest.mark.parametrize("cloud,api,authority,scope", [
    ("commercial", "https://api.security.microsoft.com", "https://login.microsoftonline.com",
     "https://api.securitycenter.microsoft.com/.default"),
    ("gcc", "https://api-gcc.securitycenter.microsoft.us", "https://login.microsoftonline.com",
     "https://api-gcc.securitycenter.microsoft.us/.default"),
    ("gcc_high", "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us",
     "https://api-gov.securitycenter.microsoft.us/.default"),
    ("dod", "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us",
     "https://api-gov.securitycenter.microsoft.us/.default"),
])
def test_cloud_table(cloud, api, authority, scope):
    urls = endpoints(cloud)
    assert dict((k, urls[k]) for k in ("api_url", "authority_url", "scope")) == {
        "api_url": api, "authority_url": authority, "scope": scope}
    # result links are followed only to the cloud's own storage (download_hosts)
    storage = "*.blob.core.usgovcloudapi.net" if authority.endswith(".us") else "*.blob.core.windows.net"
    assert storage in urls["download_hosts"]


def test_overrides_win_over_the_cloud():
    urls = endpoints("commercial", api_url="https://eu.api.security.microsoft.com/", scope="x/.default")
    assert urls["api_url"] == "https://eu.api.security.microsoft.com" and urls["scope"] == "x/.default"


# --- against the emulator ------------------------------------------------------------------------------
def test_one_sign_in_is_shared_by_many_tasks(params, control):
    for dummy in range(5):  # five tasks: five processes, five clients, one cache
        build_client(params).get("/api/machines")
    assert len(control.sign_ins()) == 1


def test_without_the_cache_every_task_signs_in(params, control):
    for dummy in range(3):
        build_client(dict(params, token_cache=False)).get("/api/machines")
    assert len(control.sign_ins()) == 3


def test_cache_file_and_folder_are_private(params):
    build_client(params).get("/api/machines")
    folder = params["token_cache_dir"]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(folder, "tokens.json")).st_mode) == 0o600
    with open(os.path.join(folder, "tokens.json")) as handle:
        text = handle.read()
    assert params["client_secret"] not in text


def test_cache_tightens_a_loose_folder(params):
    os.makedirs(params["token_cache_dir"], 0o755)
    os.chmod(params["token_cache_dir"], 0o755)
    build_client(params).get("/api/machines")
    assert stat.S_IMODE(os.stat(params["token_cache_dir"]).st_mode) == 0o700


def test_a_token_near_expiry_is_not_reused(tmp_path):
    cache = TokenCache(str(tmp_path))
    cache.put("k", "token", expires_on=1000.0 + 200, now=1000.0)
    assert cache.get("k", now=1000.0) is None
    cache.put("k", "token", expires_on=1000.0 + 3000, now=1000.0)
    assert cache.get("k", now=1000.0) == "token"


def test_another_credential_does_not_get_the_cached_token(params, control):
    build_client(params).get("/api/machines")
    with pytest.raises(DefenderAuthError) as info:
        build_client(dict(params, client_secret="wrong")).get("/api/machines")
    assert "AADSTS7000215" in str(info.value)
    assert "wrong" not in str(info.value)
    assert len(control.sign_ins()) == 2


def _cert_file(tmp_path, password=None):
    leaf = trustme.CA().issue_cert("secops-app", key_type=trustme.KeyType.RSA)
    cert_pem = leaf.cert_chain_pems[0].bytes().decode()
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    path = tmp_path / "app.pem"
    path.write_text(key_pem + cert_pem)
    return str(path), cert_pem


@pytest.mark.parametrize("password", [None, "s3cret-pass"])
def test_certificate_sign_in(params, control, tmp_path, password):
    path, cert_pem = _cert_file(tmp_path, password)
    control("POST", "/seed", {"apps": [{"client_id": "55555555-5555-4555-8555-555555555555", "certificate": cert_pem,
                                        "roles": ["Machine.Read.All"]}]})
    options = dict(params, client_id="55555555-5555-4555-8555-555555555555", client_secret=None,
                   certificate_path=path, certificate_password=password)
    assert build_client(options).get("/api/machines")["value"]
    token_call = control.sign_ins()[-1]
    assert token_call["status"] == 200 and token_call["body"]["client_assertion"] == "***"


def test_certificate_file_without_a_key_is_explained(params, tmp_path):
    path, cert_pem = _cert_file(tmp_path)
    (tmp_path / "only.pem").write_text(cert_pem)
    options = dict(params, client_secret=None, certificate_path=str(tmp_path / "only.pem"))
    with pytest.raises(DefenderAuthError) as info:
        build_client(options).get("/api/machines")
    assert "a certificate only" in str(info.value)


def test_managed_identity_sign_in(params, control, emulator, monkeypatch):
    info = emulator.info()
    monkeypatch.setenv("IDENTITY_ENDPOINT", info["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", info["identity_header"])
    options = dict(params, client_id=None, client_secret=None, auth_method="managed_identity")
    assert build_client(options).get("/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07")["id"]
    assert [e["path"] for e in control.log()][0] == "/msi/token"


def test_wrong_scope_is_explained(params):
    with pytest.raises(DefenderAuthError) as info:
        build_client(dict(params, scope="https://example.invalid/.default")).get("/api/machines")
    assert "invalid_scope" in str(info.value) and "scope" in info.value.hint


def test_a_refresh_keeps_a_token_another_task_already_renewed(params, control):
    first, second = build_client(params), build_client(params)
    first.get("/api/machines")
    second.get("/api/machines")
    control("POST", "/tokens/expire")
    first.get("/api/machines")   # 401, signs in again, caches the new token
    second.get("/api/machines")  # 401 with the old token, finds the new one in the cache: no second sign-in
    assert len(control.sign_ins()) == 2


@pytest.mark.parametrize("environment, api, authority", [
    ("AzureUSGovernment", "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us"),
    ("AzureCloud", "https://api.security.microsoft.com", "https://login.microsoftonline.com"),
])
def test_awx_azure_credential_alone_picks_the_cloud(monkeypatch, environment, api, authority):
    """Only what AWX's Azure Resource Manager credential injects: the client goes to that cloud's endpoints."""
    for name in [n for n in os.environ if n.startswith(("DEFENDER_", "AZURE_"))]:
        monkeypatch.delenv(name)
    awx = {"AZURE_CLIENT_ID": "11111111-1111-4111-8111-111111111111", "AZURE_SECRET": "s3cret",
           "AZURE_TENANT": "00000000-0000-4000-8000-000000000001", "AZURE_SUBSCRIPTION_ID": "sub",
           "AZURE_CLOUD_ENVIRONMENT": environment}
    for name, value in awx.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(AUTH_ARGSPEC).validate({})  # the env fallbacks, as AnsibleModule applies them
    params = result.validated_parameters
    client = build_client(dict(params, token_cache=False, rate_budget=False))
    assert client.api_url == api
    assert client.tokens.credential.authority == "%s/00000000-0000-4000-8000-000000000001" % authority
    assert client.tokens.credential.endpoints["scope"] == api.replace("api.security.microsoft.com",
                                                                      "api.securitycenter.microsoft.com") + "/.default"


def test_an_unknown_azure_environment_is_a_clear_error():
    from ansible_collections.secops.defender.plugins.module_utils._cloud import cloud_from_azure_environment
    from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError
    with pytest.raises(DefenderInputError) as info:
        cloud_from_azure_environment("AzureChinaCloud")
    assert "AzureChinaCloud" in str(info.value) and "Set cloud" in str(info.value)
    assert cloud_from_azure_environment("") is None


# The AWX / AAP custom credential type shipped in docs/awx, injected the way AWX does it, by the same code the
# ansible-runner job of the ecosystem step uses (tests/utils/awx_job.py).
def _load_awx_job():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils", "awx_job.py")
    spec = importlib.util.spec_from_file_location("awx_job", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AWX_JOB = _load_awx_job()


def _awx_inject(inputs, tmp_path):
    return AWX_JOB.inject(inputs, str(tmp_path))


def _params_from(env, monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith(("DEFENDER_", "AZURE_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(AUTH_ARGSPEC).validate({})  # the env fallbacks, as AnsibleModule applies them
    assert result.error_messages == []
    return dict(result.validated_parameters, token_cache_dir=str(tmp_path / "cache"), rate_budget=False)


def test_the_credential_type_injects_only_what_the_collection_reads():
    credential_type = AWX_JOB.load_credential_type()
    read = set(name for spec in AUTH_ARGSPEC.values() if "fallback" in spec for name in spec["fallback"][1])
    assert set(credential_type["injectors"]["env"]) <= read
    fields = [f["id"] for f in credential_type["inputs"]["fields"]]
    injected = " ".join(list(credential_type["injectors"]["env"].values())
                        + list(credential_type["injectors"]["file"].values()))
    assert [f for f in fields if "{{ %s }}" % f not in injected and "if %s " % f not in injected] == []
    assert set(credential_type["inputs"]["required"]) <= set(fields)
    assert credential_type["kind"] == "cloud"
    secret = dict((f["id"], f.get("secret", False)) for f in credential_type["inputs"]["fields"])
    assert secret["client_secret"] and secret["certificate"] and secret["certificate_password"]


def test_the_credential_type_with_a_secret_signs_in(emulator, control, monkeypatch, tmp_path):
    info = emulator.info()
    with open(info["ca_path"]) as handle:
        ca_bundle = handle.read()
    env = _awx_inject({"tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
                       "api_url": info["api_url"], "authority_url": info["authority_url"],
                       "ca_bundle": ca_bundle}, tmp_path)
    assert env["DEFENDER_CLIENT_CERTIFICATE_PATH"] == "" and env["DEFENDER_CLOUD"] == "commercial"
    params = _params_from(env, monkeypatch, tmp_path)
    assert params["certificate_path"] is None and params["ca_path"] == str(tmp_path / "awx_ca_bundle")
    client = build_client(params)
    assert client.tokens.credential.method == "client_secret"
    assert client.get("/api/machines")["value"]
    assert [call["status"] for call in control.sign_ins()] == [200]


def test_the_credential_type_with_a_certificate_signs_in(emulator, control, monkeypatch, tmp_path):
    info = emulator.info()
    path, cert_pem = _cert_file(tmp_path, "s3cret-pass")
    control("POST", "/seed", {"apps": [{"client_id": "55555555-5555-4555-8555-555555555555", "certificate": cert_pem,
                                        "roles": ["Machine.Read.All"]}]})
    with open(path) as handle:
        certificate = handle.read()
    with open(info["ca_path"]) as handle:
        ca_bundle = handle.read()
    env = _awx_inject({"tenant_id": info["tenant_id"], "client_id": "55555555-5555-4555-8555-555555555555",
                       "certificate": certificate, "certificate_password": "s3cret-pass",
                       "api_url": info["api_url"], "authority_url": info["authority_url"],
                       "ca_bundle": ca_bundle}, tmp_path)
    assert env["DEFENDER_CLIENT_SECRET"] == ""
    client = build_client(_params_from(env, monkeypatch, tmp_path))
    assert client.tokens.credential.method == "certificate"
    assert client.get("/api/machines")["value"]
    assert control.sign_ins()[-1]["body"]["client_assertion"] == "***"


@pytest.mark.parametrize("cloud, api, authority", [
    ("gcc_high", "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us"),
    ("dod", "https://api-gov.securitycenter.microsoft.us", "https://login.microsoftonline.us"),
    ("gcc", "https://api-gcc.securitycenter.microsoft.us", "https://login.microsoftonline.com"),
])
def test_the_credential_type_picks_the_cloud(monkeypatch, tmp_path, cloud, api, authority):
    """Blank URL fields are injected as "" and must not hide the cloud's endpoints."""
    env = _awx_inject({"tenant_id": "00000000-0000-4000-8000-000000000001",
                       "client_id": "11111111-1111-4111-8111-111111111111", "client_secret": "s3cret",
                       "cloud": cloud}, tmp_path)
    assert env["DEFENDER_API_URL"] == "" and env["DEFENDER_AUTHORITY_URL"] == ""
    client = build_client(_params_from(env, monkeypatch, tmp_path))
    assert client.api_url == endpoints(cloud)["api_url"]
    assert client.tokens.credential.authority == "%s/00000000-0000-4000-8000-000000000001" % authority
