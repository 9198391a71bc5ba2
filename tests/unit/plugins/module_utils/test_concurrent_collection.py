"""Two tasks bring home one session's results into one folder, over real HTTPS through the real client against the
emulator: the task that submitted the session, and one that adopted it (a rerun beside a first run that is still
going, as when a killed play leaves its module running: since ansible-core 2.19 the worker has a session of its
own). Whichever collects first, the folder must hold one copy of each file, its manifest must list that copy, and
both tasks' rows must pass the evidence check."""

import json
import os
import threading

import pytest

from ansible_collections.secops.defender.plugins.module_utils._fleet import Row
from ansible_collections.secops.defender.plugins.module_utils._live_response import Collector, verify_evidence

from .test_hostile_evidence import collect, expected_sha256, files_under, seed, sessions

DEVICE = ("%040x" % 0xc7a5, "crash-05.corp.example.com")


def finished_session(client, control, dest):
    """A session submitted by a first run that did not wait (its results never fetched), ended since."""
    ids = seed(control, [DEVICE])
    collect(client, ids, dest, wait=False)
    control("POST", "/clock", {"advance": 120})
    (listed,) = sessions(control)
    return client.get("/api/machineactions/%s" % listed["id"])


def row_of(action, adopted):
    """The row each task's engine hands its Collector when the session ends."""
    row = Row(action["machineId"], machine_id=action["machineId"].lower(), machine_name=action["computerDnsName"])
    row.action, row.adopted, row.changed = dict(action), adopted, not adopted
    return row


def collector(client, dest):
    return Collector(client, str(dest), action_subdir=True, manifest=True, per_device=True)


@pytest.mark.parametrize("order", ["adopter first", "submitter first"])
def test_one_session_collected_by_two_tasks_leaves_one_copy_its_manifest_lists(
        client, control, fast, tmp_path, order):
    dest = tmp_path / "ev"
    action = finished_session(client, control, dest)
    submitter, adopter = row_of(action, adopted=False), row_of(action, adopted=True)
    rows = [adopter, submitter] if order == "adopter first" else [submitter, adopter]
    for row in rows:  # each task has its own Collector, as each runs in its own process
        collector(client, dest)(row)
    verify_evidence(rows)
    assert not any(r.failed for r in rows), [r.msg for r in rows]
    folder = rows[0].extra["evidence_dir"]
    assert rows[1].extra["evidence_dir"] == folder
    # One copy of the file, and the manifest both tasks wrote lists it; each row points at that copy.
    assert sorted(os.path.basename(p) for p in files_under(folder)) == ["ev.bin", "manifest.json"]
    with open(os.path.join(folder, "manifest.json")) as handle:
        manifest = json.load(handle)
    assert [f["name"] for f in manifest["files"]] == ["ev.bin"]
    assert manifest["files"][0]["sha256"] == expected_sha256(DEVICE[0])
    for row in rows:
        assert [f["path"] for f in row.extra["files"]] == [os.path.join(folder, "ev.bin")]
    # Every path the manifest's commands name is a file that is there (none points at a copy dropped since).
    assert [c["path"] for c in manifest["commands"] if c["type"] == "GetFile"] == [os.path.join(folder, "ev.bin")]
    # The first to collect wrote the file, the second found it there.
    assert [f["downloaded"] for r in rows for f in r.extra["files"]] == [True, False]
    assert len(sessions(control)) == 1


def test_two_tasks_collecting_one_session_at_once_agree_on_one_copy(client, control, fast, tmp_path):
    """The same, at the same time (each in a thread, as each would in its own process): whichever commits
    second finds the first's copy, so the outcome does not depend on who wins."""
    dest = tmp_path / "ev"
    action = finished_session(client, control, dest)
    rows = [row_of(action, adopted=False), row_of(action, adopted=True)]
    start = threading.Barrier(len(rows))
    errors = []

    def run(row):
        start.wait()
        try:
            collector(client, dest)(row)
        except Exception as exc:  # pylint: disable=broad-except  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and not any(t.is_alive() for t in threads), errors
    verify_evidence(rows)
    assert not any(r.failed for r in rows), [r.msg for r in rows]
    folder = rows[0].extra["evidence_dir"]
    assert sorted(os.path.basename(p) for p in files_under(folder)) == ["ev.bin", "manifest.json"]
    assert sorted(f["downloaded"] for r in rows for f in r.extra["files"]) == [False, True]


def test_another_session_s_identical_file_in_a_shared_folder_is_not_taken_for_this_one(
        client, control, fast, tmp_path):
    """Without action_subdir a device's sessions share one folder: a file there with the same bytes but from
    another session (no manifest of this session lists it) is not this session's copy, and stays apart."""
    dest = tmp_path / "ev"
    ids = seed(control, [DEVICE])
    first = collect(client, ids, dest, action_subdir=False)["results"][0]
    second = collect(client, ids, dest, action_subdir=False, force=True)["results"][0]
    assert first["action_id"] != second["action_id"] and not second["failed"], second["msg"]
    assert [os.path.basename(f["path"]) for f in first["files"] + second["files"]] == ["ev.bin", "ev-1.bin"]
    assert second["files"][0]["downloaded"]
