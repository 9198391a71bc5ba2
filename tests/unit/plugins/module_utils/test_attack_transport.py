"""The attack suite for transport and sign-in (issue 26, items 1, 2, 3, 6 and 7): real HTTP through the real client.

Hostile servers (an API, a sign-in authority) and recording servers standing in for the other hosts run here, on
127.0.0.1 only, over TLS from a throw-away CA (trustme). Every test fails if the token or the secret reaches a
recording server, or if a request is not bounded. Each hostile handler answers a bounded number of requests and
trickles for a bounded time, so it stops by itself even against a client that never would. Assertions are on
counts and bounds, never on timings."""

import io
import json
import os
import ssl
import threading
import time

import pytest
import trustme
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ansible_collections.secops.defender.plugins.module_utils._budget import budget_key
from ansible_collections.secops.defender.plugins.module_utils._cloud import host_patterns
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderApiError,
    DefenderError,
    DefenderInputError,
    DefenderRateLimitError,
    DefenderTransportError,
    DefenderUnsafeResponseError,
)
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client
from ansible_collections.secops.defender.plugins.module_utils._transport import host_matches

TOKEN = "eyJhbGciOi.attack-suite-token.sig"
SECRET = "attack-suite-client-secret-Zq9"
TENANT = "33333333-3333-4333-8333-333333333333"
CLIENT = "44444444-4444-4444-8444-444444444444"
MAX_REQUESTS = 450  # no hostile server answers more than this, whatever the client does


class Server:
    """A werkzeug server on 127.0.0.1 that records every request and hands it to `handler(request, server)`."""

    def __init__(self, handler, certificate=None, host="127.0.0.1"):
        self.handler = handler
        self.requests = []
        self.sent = 0  # body bytes handed to the socket by trickling or streaming handlers
        self._lock = threading.Lock()
        context = None
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            certificate.configure_cert(context)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, ssl_context=context)
        self.port = self._server.server_port
        self.url = "%s://%s:%d" % ("https" if context else "http", host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.requests.append({"method": request.method, "path": request.full_path, "body": body,
                                  "headers": dict(request.headers)})
            count = len(self.requests)
        if count > MAX_REQUESTS:
            response = Response("enough", status=410)
        else:
            response = self.handler(request, self)
        return response(environ, start_response)

    def count_sent(self, size):
        with self._lock:
            self.sent += size

    def leaks(self):
        """Requests that carried the token or the secret."""
        found = []
        for entry in self.requests:
            text = json.dumps(entry["headers"]) + entry["path"] + entry["body"].decode("latin-1")
            if TOKEN in text or SECRET in text:
                found.append(entry["method"] + " " + entry["path"])
        return found

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    path = str(tmp_path_factory.mktemp("ca") / "ca.pem")
    ca.cert_pem.write_to_path(path)
    return certificate, path


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Whatever proxy the machine has, these requests stay on 127.0.0.1."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def servers(tls):
    """Start servers with `servers(handler, tls=True)`; all are stopped after the test, and none may have received
    the token or the secret unless it is the API or the authority itself (`trusted=True`)."""
    started = []

    def start(handler, use_tls=True, trusted=False, host="127.0.0.1"):
        server = Server(handler, tls[0] if use_tls else None, host=host)
        server.trusted = trusted
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for server in started:
        if not server.trusted:
            assert server.leaks() == [], "a credential reached a recording server: %s" % server.leaks()


def recorder(request, server):
    """What a host that should never be contacted answers: something plausible, so a client that goes on would
    count it as a success."""
    return Response(json.dumps({"value": [], "access_token": "x", "expires_in": 3600}), mimetype="application/json")


def params_for(api, tls, tmp_path, **extra):
    """Module parameters for a client that uses a given access token (no sign-in) against `api`."""
    params = {"api_url": api.url, "access_token": TOKEN, "auth_method": "access_token", "ca_path": tls[1],
              "token_cache": False, "rate_budget": False, "token_cache_dir": str(tmp_path / "state"),
              "timeout": 30, "max_retry_wait": 5}
    params.update(extra)
    return params


def page(values, next_link=None):
    body = {"value": values}
    if next_link:
        body["@odata.nextLink"] = next_link
    return Response(json.dumps(body), mimetype="application/json")


# --- item 1: the token goes to the API host only, judged as requests connects ----------------------------------

def test_a_next_link_with_a_backslash_never_takes_the_token_elsewhere(servers, tls, tmp_path):
    other = servers(recorder)
    state = {}

    def api_handler(request, server):
        # urllib.parse reads this as the API host; urllib3 (so requests) connects to `other`.
        return page([{"id": "m1"}], "https://127.0.0.1:%d\\@127.0.0.1:%d/api/machines?page=2"
                    % (other.port, state["api"].port))

    state["api"] = api = servers(api_handler, trusted=True)
    client = build_client(params_for(api, tls, tmp_path))
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.paged("/api/machines")
    assert info.value.code == "ForeignHost" and "backslash" in str(info.value)
    assert other.requests == []
    assert len(api.requests) == 1


def test_a_next_link_with_userinfo_is_refused(servers, tls, tmp_path):
    state = {}

    def api_handler(request, server):
        return page([{"id": "m%d" % len(server.requests)}],
                    "https://attacker@127.0.0.1:%d/api/machines?page=2" % state["api"].port)

    state["api"] = api = servers(api_handler, trusted=True)
    client = build_client(params_for(api, tls, tmp_path))
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.paged("/api/machines")
    assert "user@host" in str(info.value)
    assert len(api.requests) == 1


def test_a_link_to_the_same_host_on_another_port_is_refused(servers, tls, tmp_path):
    other = servers(recorder)
    api = servers(lambda request, server: page([{"id": "m1"}], other.url + "/api/machines?page=2"), trusted=True)
    with pytest.raises(DefenderUnsafeResponseError):
        build_client(params_for(api, tls, tmp_path)).paged("/api/machines")
    assert other.requests == []


# --- item 2: sign-in follows no redirect and stays on the authority's host -------------------------------------

def authority(servers, token_answer, token_endpoint=None):
    """A sign-in authority: a discovery document (naming `token_endpoint`, or its own) and `token_answer`."""
    state = {}

    def handler(request, server):
        base = "%s/%s" % (server.url, TENANT)
        if request.path.endswith("/.well-known/openid-configuration"):
            return Response(json.dumps({
                "issuer": base + "/v2.0", "token_endpoint": token_endpoint or base + "/oauth2/v2.0/token",
                "authorization_endpoint": base + "/oauth2/v2.0/authorize", "jwks_uri": base + "/discovery/v2.0/keys",
                "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                "token_endpoint_auth_methods_supported": ["client_secret_post"]}), mimetype="application/json")
        return token_answer(request, server)

    state["server"] = servers(handler, trusted=True)
    return state["server"]


def secret_params(login, tls, tmp_path, **extra):
    params = {"tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET, "api_url": login.url,
              "authority_url": login.url, "ca_path": tls[1], "token_cache": False, "rate_budget": False,
              "token_cache_dir": str(tmp_path / "state"), "timeout": 30, "max_retry_wait": 5}
    params.update(extra)
    return params


@pytest.mark.parametrize("status,plain", [(307, False), (308, False), (307, True)])
def test_sign_in_never_follows_a_redirect(servers, tls, tmp_path, status, plain):
    other = servers(recorder, use_tls=not plain)

    def token(request, server):
        return Response("", status=status, headers={"Location": other.url + "/%s/oauth2/v2.0/token" % TENANT})

    login = authority(servers, token)
    client = build_client(secret_params(login, tls, tmp_path))
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.get("/api/machines")
    message = str(info.value)
    assert info.value.code == "SignInRedirected"
    assert ":%d" % login.port in message and ":%d" % other.port in message  # names both hosts
    assert other.requests == []
    assert SECRET not in message
    assert len([r for r in login.requests if r["method"] == "POST"]) == 1  # not retried either


def test_a_token_endpoint_on_another_host_never_receives_the_secret(servers, tls, tmp_path):
    other = servers(recorder)
    login = authority(servers, recorder, token_endpoint="%s/%s/oauth2/v2.0/token" % (other.url, TENANT))
    client = build_client(secret_params(login, tls, tmp_path))
    with pytest.raises(DefenderError) as info:
        client.get("/api/machines")
    message = str(info.value)
    assert ":%d" % login.port in message and ":%d" % other.port in message, message  # names both hosts
    assert other.requests == []
    assert [r["method"] for r in login.requests] == ["GET"]  # the discovery document only


# --- item 3: evidence only from the cloud's storage hosts --------------------------------------------------------

def evidence(request, server):
    return Response(b'{"exit_code": 0, "script_output": "substitute evidence from another host"}',
                    mimetype="application/json")


def test_a_result_link_to_another_host_is_refused_before_a_byte_is_read(servers, tls, tmp_path):
    other = servers(evidence)
    api = servers(recorder, trusted=True)
    client = build_client(params_for(api, tls, tmp_path))  # commercial: *.blob.core.windows.net and friends
    sink = io.BytesIO()
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.download(other.url + "/investigation-actions-data/result.json?sig=SECRETSIG", sink)
    message = str(info.value)
    assert info.value.code == "DownloadHostRefused"
    assert "127.0.0.1" in message and "download_hosts" in message and "SECRETSIG" not in message
    assert other.requests == [] and sink.getvalue() == b""


def test_a_refused_result_link_is_not_retried(servers, tls, tmp_path):
    other = servers(evidence)
    api = servers(recorder, trusted=True)
    client = build_client(params_for(api, tls, tmp_path))
    links = []

    def get_link():
        links.append(1)
        return other.url + "/result.json?sig=abc"

    with pytest.raises(DefenderUnsafeResponseError):
        client.download_fresh(get_link, io.BytesIO)
    assert len(links) == 1 and other.requests == []


def test_a_result_link_over_plain_http_is_refused_even_in_a_lab(servers, tls, tmp_path):
    other = servers(evidence, use_tls=False)
    api = servers(recorder, trusted=True)
    client = build_client(params_for(api, tls, tmp_path, allow_insecure_http=True, download_hosts=["127.0.0.1"]))
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.download(other.url + "/result.json?sig=abc", io.BytesIO())
    assert "https" in str(info.value)
    assert other.requests == []


def test_download_hosts_admits_a_lab_storage_host(servers, tls, tmp_path):
    storage = servers(evidence, host="localhost")
    api = servers(recorder, trusted=True)
    # A string, as the plugins and the EDA source pass DEFENDER_DOWNLOAD_HOSTS.
    client = build_client(params_for(api, tls, tmp_path, download_hosts="*.example.test, localhost"))
    sink = io.BytesIO()
    assert client.download(storage.url + "/result.json?sig=abc", sink) > 0
    assert b"exit_code" in sink.getvalue()
    assert [r["headers"].get("Authorization") for r in storage.requests] == [None]


@pytest.mark.parametrize("host,allowed", [
    ("x.blob.core.windows.net", True), ("blob.core.windows.net", False), ("x.blob.core.windows.net.evil.test", False),
    ("evilblob.core.windows.net", False), ("LOCALHOST", True), ("127.0.0.1", False)])
def test_host_patterns_match_names_and_suffixes_only(host, allowed):
    assert host_matches(host, host_patterns(["*.blob.core.windows.net", "localhost"])) is allowed


@pytest.mark.parametrize("bad", ["*", "https://storage.example", "storage.example:443", "a*.example"])
def test_download_hosts_refuses_what_is_not_a_host_pattern(bad):
    with pytest.raises(DefenderInputError):
        host_patterns([bad])


# --- item 6: Retry-After is bounded ------------------------------------------------------------------------------

def throttle_once(value):
    def handler(request, server):
        if len(server.requests) == 1:
            return Response(json.dumps({"error": {"code": "TooManyRequests", "message": "slow down"}}), status=429,
                            headers={"Retry-After": value}, mimetype="application/json")
        return page([{"id": "m1"}])
    return handler


def _pause_left(tmp_path, api):
    path = os.path.join(str(tmp_path / "state"), "budget-%s.json" % budget_key(None, None, api.url))
    with open(path) as handle:
        pauses = json.load(handle)["pause"]
    entry = pauses.get("default", 0)
    until = entry[0] if isinstance(entry, list) else entry
    return float(until) - time.time()


@pytest.mark.parametrize("value", ["99999999", "inf", "Infinity", "1e400", "NaN"])
def test_a_hostile_retry_after_never_blocks_the_controller(servers, tls, tmp_path, value):
    api = servers(throttle_once(value), trusted=True)
    # A long timeout: on a loaded machine a 5 s read can time out and be retried, which is another request and not
    # what this test is about (how long a hostile Retry-After may hold the controller).
    first = build_client(params_for(api, tls, tmp_path, rate_budget=True, max_retry_wait=2, timeout=60))
    try:
        first.get("/api/machines")
    except DefenderRateLimitError:
        pass  # this task may give up: it may wait 2 s at most, and the API said longer
    assert _pause_left(tmp_path, api) <= 2 + 1  # never more than max_retry_wait is recorded
    # The next task is not blocked: it waits out what is left of at most 2 seconds and succeeds with one request.
    # (The first task may have retried once within its 2 seconds, when the jittered backoff for an unusable
    # Retry-After came out short: then it made two.)
    before = len(api.requests)
    later = build_client(params_for(api, tls, tmp_path, rate_budget=True, max_retry_wait=10, timeout=60))
    assert later.get("/api/machines")["value"] == [{"id": "m1"}]
    assert len(api.requests) == before + 1 and before in (1, 2)


@pytest.mark.parametrize("recorded", [1e12, "Infinity", [1e12, 5]])
def test_a_pause_past_its_own_bound_is_cleared_by_the_next_task(servers, tls, tmp_path, recorded):
    api = servers(lambda request, server: page([{"id": "m1"}]), trusted=True)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    path = state / ("budget-%s.json" % budget_key(None, None, api.url))
    # What an older release wrote after Retry-After: 99999999 or inf (json writes inf as Infinity).
    text = json.dumps({"calls": {}, "pause": {"default": recorded}})
    path.write_text(text.replace('"Infinity"', "Infinity"))
    client = build_client(params_for(api, tls, tmp_path, rate_budget=True, max_retry_wait=2))
    assert client.get("/api/machines")["value"] == [{"id": "m1"}]


# --- item 7: every answer is bounded -----------------------------------------------------------------------------

def test_a_next_link_that_is_new_every_time_stops_before_the_budget_is_spent(servers, tls, tmp_path):
    def handler(request, server):
        return page([{"id": "m1"}, {"id": "m2"}], "%s/api/machines?page=%d" % (server.url, len(server.requests)))

    api = servers(handler, trusted=True)
    with pytest.raises(DefenderUnsafeResponseError) as info:
        build_client(params_for(api, tls, tmp_path)).paged("/api/machines")
    assert info.value.code == "PagingLoop"
    assert len(api.requests) <= 3


def test_an_endless_collection_stops_at_the_page_limit(servers, tls, tmp_path):
    def handler(request, server):
        n = len(server.requests)
        return page([{"id": "m%d" % n}], "%s/api/machines?page=%d" % (server.url, n))

    api = servers(handler, trusted=True)
    with pytest.raises(DefenderUnsafeResponseError) as info:
        build_client(params_for(api, tls, tmp_path)).paged("/api/machines")
    assert info.value.code == "PagingLoop" and "pages" in str(info.value)
    assert len(api.requests) <= 201  # MAX_PAGES, well inside one hour's budget of 1500


def test_a_server_that_ignores_skip_is_stopped(servers, tls, tmp_path):
    def handler(request, server):
        top = int(request.args.get("$top", "2"))
        return page([{"id": "m%d" % i} for i in range(top)])  # the first page, whatever $skip says

    api = servers(handler, trusted=True)
    with pytest.raises(DefenderUnsafeResponseError) as info:
        build_client(params_for(api, tls, tmp_path)).paged("/api/machines", page_size=2)
    assert info.value.code == "PagingLoop"
    assert len(api.requests) <= 3


def test_a_huge_answer_is_cut_off_at_max_response_mb(servers, tls, tmp_path):
    total = 48 * 1024 * 1024
    chunk = b'"' + b"x" * (64 * 1024 - 3) + b'",'

    def handler(request, server):
        def body():
            yield b'{"value": ['
            for dummy in range(total // len(chunk)):  # bounded: 48 MiB at most
                server.count_sent(len(chunk))
                yield chunk
            yield b'"end"]}'
        return Response(body(), mimetype="application/json")

    api = servers(handler, trusted=True)
    client = build_client(params_for(api, tls, tmp_path, max_response_mb=1))
    with pytest.raises(DefenderUnsafeResponseError) as info:
        client.get("/api/machines")
    assert info.value.code == "ResponseTooLarge"
    assert len(api.requests) == 1  # not retried: it would be as large again
    deadline = time.monotonic() + 30
    while api.sent >= total and time.monotonic() < deadline:  # pragma: no cover - only if it was read whole
        time.sleep(0.1)
    assert api.sent < total / 2  # the client stopped reading; socket buffers hold a few MiB at most


def test_a_trickled_body_is_cut_off_at_the_timeout_in_all(servers, tls, tmp_path):
    size = 40
    text = b'{"value": []}'.ljust(size)

    def handler(request, server):
        def body():
            for index in range(size):  # bounded: 40 bytes, 10 seconds
                time.sleep(0.25)
                server.count_sent(1)
                yield text[index:index + 1]
        return Response(body(), mimetype="application/json", headers={"Content-Length": str(size)})

    api = servers(handler, trusted=True)
    # 3 s: the connection and its TLS handshake fit in it on a busy machine, so what ends the call is the body's
    # deadline (a byte every 0.25 s never lets one read time out), not a slow connect.
    client = build_client(params_for(api, tls, tmp_path, timeout=3, max_retry_wait=0))
    with pytest.raises(DefenderTransportError) as info:
        client.get("/api/machines")
    assert info.value.code == "ResponseDeadline"
    assert len(api.requests) == 1
    assert api.sent <= size // 2  # cut off after about 3 s of the 10 s trickle (12 bytes), with a margin


@pytest.mark.parametrize("status", [200, 400])
def test_deeply_nested_json_is_a_typed_error_not_a_recursion_error(servers, tls, tmp_path, status):
    depth = 100000

    def handler(request, server):
        return Response(b"[" * depth + b"]" * depth, status=status, mimetype="application/json")

    api = servers(handler, trusted=True)
    with pytest.raises(DefenderError) as info:
        build_client(params_for(api, tls, tmp_path)).get("/api/machines")
    if status == 200:
        assert isinstance(info.value, DefenderUnsafeResponseError) and info.value.code == "ResponseTooDeep"
    else:
        assert isinstance(info.value, DefenderApiError) and info.value.status == 400
    assert len(api.requests) == 1
