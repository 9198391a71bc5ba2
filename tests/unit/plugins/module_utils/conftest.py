"""An emulator over real HTTPS for module_utils tests, and a client built the way modules build it.

The emulator comes from the installed mde_emulator package: its pytest plugin (loaded by its pytest11 entry point)
provides the mde_emulator fixture, seeded here through mde_emulator_seed."""

import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

import pytest
import requests

from mde_emulator.seeding import load_seed

from ansible_collections.secops.defender.plugins.module_utils import _clock
from ansible_collections.secops.defender.plugins.module_utils._connection import build_client

RESPONDER = ("11111111-1111-4111-8111-111111111111", "emulator-secret-responder")
READER = ("22222222-2222-4222-8222-222222222222", "emulator-secret-reader")
WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"


class Control:
    def __init__(self, emulator):
        self.info = emulator.info()
        self.emulator = emulator

    def __call__(self, method, path, body=None):
        response = requests.request(method, self.info["control_url"] + path, json=body, verify=self.info["ca_path"],
                                    headers={"X-Emulator-Key": self.info["control_key"]}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def log(self, host="api"):
        return [e for e in self("GET", "/log")["value"] if e["host"] == host]

    def api_calls(self, method=None, contains=""):
        return [e for e in self.log() if e["path"].startswith("/api/") and contains in e["path"]
                and (method is None or e["method"] == method)]

    def sign_ins(self):
        return [e for e in self.log() if e["path"].endswith("/oauth2/v2.0/token")]


@pytest.fixture
def mde_emulator_seed():
    """The packaged default seed with the clock stopped: tests move time themselves."""
    seed = load_seed("default")
    seed["settings"] = {"clock_speed": 0}
    return seed


@pytest.fixture
def emulator(mde_emulator):  # the plugin's fixture, under the name these tests use
    return mde_emulator


@pytest.fixture
def control(emulator):
    return Control(emulator)


@pytest.fixture
def params(emulator, tmp_path):
    """Module parameters for the responder app, with a token cache private to the test."""
    info = emulator.info()
    return {
        "tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
        "api_url": info["api_url"], "authority_url": info["authority_url"], "ca_path": info["ca_path"],
        "token_cache_dir": str(tmp_path / "cache"), "max_retry_wait": 30,
        # Long enough that a busy machine's slow answer is never re-sent: tests that count requests count sends.
        "timeout": 30,
        "download_hosts": [urlsplit(info["blob_url"]).hostname],  # the emulator's storage host
    }


@pytest.fixture
def client(params):
    return build_client(params)


@pytest.fixture
def fast(control, monkeypatch):
    """Make every wait in the services advance the emulator's clock instead of sleeping, on a virtual clock."""
    elapsed = [0.0]

    def sleep(seconds):
        elapsed[0] += seconds
        control("POST", "/clock", {"advance": seconds})

    # Every client's waits go through the default clock unless build_client was given another.
    monkeypatch.setattr(_clock.SYSTEM, "sleep", sleep)
    monkeypatch.setattr(_clock.SYSTEM, "monotonic", lambda: elapsed[0])


REDIS_PASSWORD = "s3cret-coordination-pw"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_with_the_test():
    """In the redis-server child, before it runs: have the kernel stop it when the process that started it ends.
    ansible-test runs each unit test in a forked process that leaves with os._exit, so the fixture's teardown never
    runs there, and every test using the fixture left a server running after the suite."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass  # elsewhere the teardown below is all there is


@pytest.fixture(scope="module")
def redis_url():
    """A real redis-server on 127.0.0.1, with a password, started for the test module (never a fake)."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (Debian's redis-server package; make test installs it)"
    folder = tempfile.mkdtemp()
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", REDIS_PASSWORD,
                                "--save", "", "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=_stop_with_the_test)
    url = "redis://:%s@127.0.0.1:%d/0" % (REDIS_PASSWORD, port)
    for _attempt in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)
