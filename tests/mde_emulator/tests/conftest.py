"""Fixtures: a live emulator over real HTTPS per test, with the clock frozen so tests move time themselves."""

import copy
import os
import sys

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from mde_emulator import Emulator  # noqa: E402  (needs the path above)
from mde_emulator.testclient import Client, load_seed  # noqa: E402


@pytest.fixture
def seed():
    data = load_seed()
    data["settings"] = {"clock_speed": 0}
    return data


@pytest.fixture
def emu(seed, tmp_path):
    emulator = Emulator(copy.deepcopy(seed), state_dir=str(tmp_path)).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu):
    return Client(emu)


def advance(client, seconds):
    client.control("POST", "/clock", {"advance": seconds})
