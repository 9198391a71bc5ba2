"""pytest fixtures for the emulator: `mde_emulator` starts one over HTTPS for a test and stops it afterwards.

Installed with the package as the pytest plugin `mde_emulator` (entry point pytest11), or imported explicitly:

    from mde_emulator.pytest_plugin import mde_emulator, mde_emulator_seed  # noqa: F401 (fixtures)

    def test_my_playbook_code(mde_emulator):
        info = mde_emulator.info()   # api_url, authority_url, tenant_id, ca_path, control_url, control_key...

Override `mde_emulator_seed` in a conftest to seed other apps, machines or settings (a dict, as the JSON seeds)."""

import copy

import pytest

from .seeding import load_seed
from .server import Emulator


@pytest.fixture
def mde_emulator_seed():
    """The seed the `mde_emulator` fixture starts with: the packaged default seed."""
    return load_seed("default")


@pytest.fixture
def mde_emulator(mde_emulator_seed, tmp_path):
    """A running emulator (an Emulator; `.info()` says where and how to reach it), stopped after the test."""
    emulator = Emulator(copy.deepcopy(mde_emulator_seed), state_dir=str(tmp_path / "mde-emulator")).start()
    try:
        yield emulator
    finally:
        emulator.stop()
