"""Rehearsal support: the connection as an env file (--env-file), a CA that stays the same across restarts with one
state folder, and a README that stands on its own once the package is installed without this repository."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

import pytest
import requests

from mde_emulator import Emulator
from mde_emulator.rehearsal import RehearsalError, choose_app, env_file_text
from mde_emulator.seeding import load_seed

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
# The variables the collection reads for these options (plugins/doc_fragments/auth.py).
COLLECTION_VARIABLES = {"DEFENDER_TENANT_ID", "DEFENDER_CLIENT_ID", "DEFENDER_CLIENT_SECRET", "DEFENDER_AUTH_METHOD",
                        "DEFENDER_API_URL", "DEFENDER_AUTHORITY_URL", "DEFENDER_CA_PATH", "DEFENDER_DOWNLOAD_HOSTS",
                        "DEFENDER_TOKEN_CACHE_DIR"}
AWKWARD_SECRET = "it's \"quoted\" $HOME `id` ; rm -rf / \\ and\nnewline"


def run_cli(tmp_path, *args):
    """Start `python -m mde_emulator` (this checkout's package) with ARGS and wait for its info file; (process,
    info). The caller stops it with stop()."""
    info_file = tmp_path / ("info-%d.json" % time.monotonic_ns())
    process = subprocess.Popen([sys.executable, "-m", "mde_emulator", "--info-file", str(info_file)] + list(args),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=os.path.dirname(PACKAGE))
    for dummy in range(200):
        if info_file.exists() and info_file.stat().st_size:
            return process, json.loads(info_file.read_text())
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        time.sleep(0.05)
    stop(process)
    raise AssertionError("the emulator did not start")


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    return process.stderr.read().decode()


def sourced(path):
    """The variables bash has after `set -a; . PATH; set +a`, as a child process sees them."""
    script = 'set -a; . "$1"; set +a; exec "$2" -c "import json, os; print(json.dumps(dict(os.environ)))"'
    done = subprocess.run(["bash", "-c", script, "bash", str(path), sys.executable], capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, check=True)
    return dict((k, v) for k, v in json.loads(done.stdout).items() if k.startswith("DEFENDER_"))


def assignments(path):
    """NAME=value lines as docker's --env-file reads them: everything after the first '=', as written."""
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_env_file_holds_the_connection_in_the_collections_variables(tmp_path):
    state, env_file = tmp_path / "state", tmp_path / "mde.env"
    process, info = run_cli(tmp_path, "--seed", "default", "--state-dir", str(state), "--env-file", str(env_file))
    try:
        responder = [a for a in info["apps"] if a["name"] == "secops-responder"][0]
        expected = {
            "DEFENDER_TENANT_ID": info["tenant_id"], "DEFENDER_CLIENT_ID": responder["client_id"],
            "DEFENDER_CLIENT_SECRET": responder["client_secret"], "DEFENDER_AUTH_METHOD": "client_secret",
            "DEFENDER_API_URL": info["api_url"], "DEFENDER_AUTHORITY_URL": info["authority_url"],
            "DEFENDER_CA_PATH": info["ca_path"], "DEFENDER_DOWNLOAD_HOSTS": "127.0.0.1",
            "DEFENDER_TOKEN_CACHE_DIR": str(state / "token-cache"),
        }
        assert set(expected) == COLLECTION_VARIABLES
        # Plain values are written bare, so bash and docker's --env-file read the same thing.
        assert assignments(env_file) == expected
        assert sourced(env_file) == expected
        assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600  # it holds a secret
        # What it says connects: a client secret sign-in with those values, trusting that CA.
        token = requests.post("%s/%s/oauth2/v2.0/token" % (expected["DEFENDER_AUTHORITY_URL"],
                                                           expected["DEFENDER_TENANT_ID"]),
                              data={"grant_type": "client_credentials", "client_id": expected["DEFENDER_CLIENT_ID"],
                                    "client_secret": expected["DEFENDER_CLIENT_SECRET"], "scope": info["scope"]},
                              verify=expected["DEFENDER_CA_PATH"], timeout=10)
        assert token.status_code == 200 and token.json()["access_token"]
    finally:
        assert "quoted" not in stop(process)


def test_env_file_quotes_a_value_that_a_shell_would_misread(tmp_path):
    seed = load_seed("default")
    seed["apps"].append({"client_id": "44444444-4444-4444-8444-444444444444", "name": "awkward",
                         "client_secret": AWKWARD_SECRET, "roles": ["Machine.Read.All"]})
    seed_file, env_file = tmp_path / "seed.json", tmp_path / "mde.env"
    seed_file.write_text(json.dumps(seed))
    process, info = run_cli(tmp_path, "--seed", str(seed_file), "--env-file", str(env_file), "--env-app", "awkward")
    warning = stop(process)
    env = sourced(env_file)
    assert env["DEFENDER_CLIENT_SECRET"] == AWKWARD_SECRET
    assert env["DEFENDER_CLIENT_ID"] == "44444444-4444-4444-8444-444444444444"
    # The one quoted value is named on stderr, since docker's --env-file would keep its quotes.
    assert "DEFENDER_CLIENT_SECRET quoted for a shell" in warning


def test_env_file_text_quotes_only_what_needs_it():
    info = {"tenant_id": "t-1", "api_url": "https://127.0.0.1:1", "authority_url": "https://127.0.0.1:1",
            "blob_url": "https://127.0.0.1:2", "ca_path": "/tmp/my state/ca.pem"}
    app = {"client_id": "c-1", "name": "lab", "client_secret": "a'b"}
    text, quoted = env_file_text(info, app, "/srv/mde")
    assert quoted == ["DEFENDER_CLIENT_SECRET", "DEFENDER_CA_PATH"]
    assert "DEFENDER_CLIENT_SECRET='a'\"'\"'b'\n" in text and "DEFENDER_CA_PATH='/tmp/my state/ca.pem'\n" in text
    assert "DEFENDER_TENANT_ID=t-1\n" in text and "DEFENDER_TOKEN_CACHE_DIR=/srv/mde/token-cache\n" in text


def test_env_app_is_chosen_by_id_or_name_and_needs_a_secret():
    apps = Emulator(load_seed("default")).app_credentials()
    assert choose_app(apps)["name"] == "secops-responder"  # the seed's first app with a secret
    assert choose_app(apps, "secops-reader")["client_id"] == "22222222-2222-4222-8222-222222222222"
    assert choose_app(apps, "22222222-2222-4222-8222-222222222222")["name"] == "secops-reader"
    with pytest.raises(RehearsalError, match="no client secret"):
        choose_app(apps, "secops-managed-identity")
    with pytest.raises(RehearsalError, match="no app nobody"):
        choose_app(apps, "nobody")


def test_an_unknown_env_app_stops_before_anything_listens(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mde_emulator", "--seed", "default", "--env-file",
                           str(tmp_path / "mde.env"), "--env-app", "nobody", "--info-file", str(tmp_path / "i.json")],
                          capture_output=True, text=True, cwd=os.path.dirname(PACKAGE), timeout=30, check=False)
    assert done.returncode == 2 and "--env-file: no app nobody" in done.stderr
    assert not (tmp_path / "mde.env").exists() and not (tmp_path / "i.json").exists()


def _served_ca(state_dir=None):
    emulator = Emulator(load_seed("default"), state_dir=state_dir).start()
    try:
        with open(emulator.ca_path, "rb") as handle:
            return emulator.ca_path, handle.read()
    finally:
        emulator.stop()


def test_the_ca_stays_the_same_across_restarts_with_one_state_dir(tmp_path):
    state = str(tmp_path / "state")
    first_path, first = _served_ca(state)
    trusted = tmp_path / "trusted.pem"  # what a client was given the first time
    trusted.write_bytes(first)
    assert stat.S_IMODE(os.stat(os.path.join(state, "ca-key.pem")).st_mode) == 0o600
    emulator = Emulator(load_seed("default"), state_dir=state).start()
    try:
        with open(emulator.ca_path, "rb") as handle:
            assert (emulator.ca_path, handle.read()) == (first_path, first)
        # A new server certificate, from the same CA: the client's old copy still verifies it.
        discovery = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (
            emulator.api_url, emulator.tenant.tenant_id), verify=str(trusted), timeout=10)
        assert discovery.status_code == 200
    finally:
        emulator.stop()


def test_a_new_ca_without_a_state_dir(tmp_path):
    first_path, first = _served_ca()
    trusted = tmp_path / "trusted.pem"
    trusted.write_bytes(first)
    emulator = Emulator(load_seed("default")).start()
    try:
        assert emulator.ca_path != first_path
        with open(emulator.ca_path, "rb") as handle:
            assert handle.read() != first
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(emulator.api_url + "/", verify=str(trusted), timeout=10)
    finally:
        emulator.stop()


def test_a_state_dir_with_a_broken_ca_key_says_what_to_do(tmp_path):
    _served_ca(str(tmp_path))
    (tmp_path / "ca-key.pem").write_text("not a key")
    emulator = Emulator(load_seed("default"), state_dir=str(tmp_path))
    with pytest.raises(ValueError, match="remove both and a new CA is made"):
        emulator.start()


def test_the_readme_stands_on_its_own():
    """The README ships in the package (its long description): it may name only files that ship with it."""
    with open(os.path.join(PACKAGE, "README.md")) as handle:
        readme = handle.read()
    # No file of the collection's repository (the package's own folder may be named, as where to install from).
    for outside in (r"tests/(?!mde_emulator`)", r"shared/", r"`make [a-z-]+`", r"\.venv", r"requirements-dev",
                    r"tests/mde_emulator/"):
        assert not re.search(outside, readme), outside
    with open(os.path.join(PACKAGE, "pyproject.toml")) as handle:
        shipped = re.search(r'mde_emulator = \[(.*?)\]', handle.read().split("[tool.setuptools.package-data]")[1]).group(1)
    globs = re.findall(r'"([^"]+)"', shipped)
    for name in set(re.findall(r"`((?:examples|seeds)/[\w./-]+)`", readme)):
        assert os.path.exists(os.path.join(PACKAGE, name)), name
        assert any(re.fullmatch(g.replace(".", r"\.").replace("*", r"[^/]*"), name) for g in globs), name
