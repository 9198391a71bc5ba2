"""Fixtures: a live emulator over real HTTPS per test, with the clock frozen so tests move time themselves."""

import copy

import pytest

from mde_emulator import Emulator
from mde_emulator.seeding import load_seed
from mde_emulator.testclient import Client


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
