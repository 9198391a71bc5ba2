"""The emulator as users install it: into a fresh virtual environment, then started with the mde-emulator command
and a packaged seed. Needs the package registry for the dependencies (pinned by tests/requirements-dev.txt)."""

import json
import os
import shutil
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
CONSTRAINTS = os.path.join(PACKAGE, "..", "requirements-dev.txt")


def test_pip_install_into_a_fresh_venv_and_run_mde_emulator(tmp_path):
    # Built from a copy: a build writes build/ and *.egg-info beside the sources.
    source = str(tmp_path / "src" / "mde_emulator")
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", CONSTRAINTS, source], check=True, timeout=600)
    info_file = tmp_path / "info.json"
    process = subprocess.Popen([str(venv / "bin" / "mde-emulator"), "--seed", "demo", "--state-dir",
                                str(tmp_path / "state"), "--info-file", str(info_file),
                                "--settings", json.dumps({"session_cap": 50})],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(tmp_path))
    try:
        for dummy in range(200):
            if info_file.exists() and info_file.stat().st_size:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        # Installed, not this checkout: the module comes from the new environment's site-packages.
        where = subprocess.run([python, "-c", "import mde_emulator; print(mde_emulator.__file__)"],
                               capture_output=True, text=True, check=True, cwd=str(tmp_path)).stdout
        assert str(venv) in where
        # What the README names ships with it: the README itself and the example client.
        installed = os.path.dirname(where.strip())
        for shipped in ("README.md", os.path.join("examples", "live_response_by_hand.py")):
            assert os.path.isfile(os.path.join(installed, shipped)), shipped
        discovery = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (info["authority_url"],
                                                                                  info["tenant_id"]),
                                 verify=info["ca_path"], timeout=10)
        assert discovery.status_code == 200 and discovery.json()["token_endpoint"]
        state = requests.get(info["control_url"] + "/state", verify=info["ca_path"], timeout=10,
                             headers={"X-Emulator-Key": info["control_key"]}).json()
        assert len(state["machines"]) == 12 and state["settings"]["session_cap"] == 50  # the packaged demo seed
    finally:
        process.terminate()
        process.wait(timeout=10)
