# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: live response. Validate commands, submit (busy machines handled on purpose),
wait, and bring results home: script output parsed, files streamed to disk, unpacked, hashed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import io
import json
import os
import threading
import time
import zlib

from ansible_collections.secops.defender.plugins.module_utils._actions import (
    ActionService,
    check_guid,
    describe_failure,
    is_final,
)
from ansible_collections.secops.defender.plugins.module_utils._transport import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._waiter import last_update
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderError,
    DefenderInputError,
    DefenderIntegrityError,
    DefenderResponseError,
)
from ansible_collections.secops.defender.plugins.module_utils._files import (
    AttemptWriters,
    commit_unpacked,
    device_folder,
    digest,
    inside,
    safe_name,
    write_json,
)
from ansible_collections.secops.defender.plugins.module_utils._fleet import Row, as_request, device_results, run_action
from ansible_collections.secops.defender.plugins.module_utils._library import list_library
from ansible_collections.secops.defender.plugins.module_utils._specs import LIVE_RESPONSE
from ansible_collections.secops.defender.plugins.module_utils._validate import api_action, api_guid, library_name

# type -> (the option that names its target, the API's parameter key, its place in the documented order)
COMMAND_TYPES = {
    "PutFile": ("file_name", "FileName", 0),
    "RunScript": ("script_name", "ScriptName", 1),
    "GetFile": ("path", "Path", 2),
}
MAX_SCRIPT_RESULT = 16 * 1024 * 1024


def build_commands(commands):
    """Turn the task's commands into the API's, or raise one error that lists every problem."""
    problems, out, last = [], [], None
    if not commands:
        raise DefenderInputError("commands must list at least one command.")
    for index, command in enumerate(commands):
        kind = command.get("type")
        if kind not in COMMAND_TYPES:
            problems.append("command %d: type must be PutFile, RunScript or GetFile, not %r" % (index, kind))
            continue
        option, key, rank = COMMAND_TYPES[kind]
        if not command.get(option):
            problems.append("command %d (%s) needs %s" % (index, kind, option))
            continue
        if kind in ("PutFile", "RunScript"):
            try:
                library_name(command[option], option)
            except DefenderInputError as exc:
                problems.append("command %d (%s): %s" % (index, kind, exc.message.rstrip(".")))
                continue
        elif any(ord(c) < 32 for c in command[option]):
            problems.append("command %d (GetFile): path has control characters" % index)
            continue
        others = [o for o in ("file_name", "script_name", "args", "path") if command.get(o) and o != option
                  and not (kind == "RunScript" and o == "args")]
        if others:
            problems.append("command %d (%s) does not take %s" % (index, kind, ", ".join(others)))
        if last is not None and rank < COMMAND_TYPES[last][2]:
            problems.append("command %d (%s) comes after %s; the API runs PutFile, then RunScript, then GetFile"
                            % (index, kind, last))
        last = kind
        params = [{"key": key, "value": command[option]}]
        if kind == "RunScript" and command.get("args"):
            params.append({"key": "Args", "value": command["args"]})
        out.append({"type": kind, "params": params})
    if problems:
        raise DefenderInputError("Invalid live response commands: " + "; ".join(problems) + ".")
    return out


def library_names(commands):
    return [c["params"][0]["value"] for c in commands if c["type"] in ("PutFile", "RunScript")]


SPEC = LIVE_RESPONSE


# The documented tenant-wide cap on concurrent sessions (25; one later page says 50).
DEFAULT_MAX_SESSIONS = 25
# How long (seconds) a session of the same request is adopted instead of run again: a rerun after a crash or a
# failed download is within hours; a day later the same triage is most likely meant to run anew.
DEFAULT_ADOPT_WINDOW = 86400


def options(commands, comment):
    """The spec's options, checked: nothing is sent before this passes."""
    return {"commands": build_commands(commands), "comment": comment}


def check_dest(commands, dest, wait):
    if not any(c["type"] == "GetFile" for c in commands) or not wait:
        return
    if not dest:
        raise DefenderInputError("dest is required to bring GetFile results home.")
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise DefenderInputError("dest %s exists and is not a directory." % dest)
    parent = dest
    while not os.path.exists(parent):
        parent = os.path.dirname(parent) or "."
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DefenderInputError("dest %s cannot be written (no write access to %s)." % (dest, parent))


def check_library(client, commands):
    names = library_names(commands)
    if not names:
        return
    present = set(f.get("fileName", "").lower() for f in list_library(client))
    missing = [n for n in names if n.lower() not in present]
    if missing:
        raise DefenderInputError("Not in the live response library: %s. Upload with "
                                 "secops.defender.defender_library_file first." % ", ".join(missing))


def live_response(client, commands, comment, request, dest=None, action_subdir=False, fail_on_script_error=True,
                  manifest=False, max_sessions=DEFAULT_MAX_SESSIONS, adopt_window=DEFAULT_ADOPT_WINDOW, **settings):
    """Run a live response session on each device; as each one ends, bring its results home.

    A session of the same request (device, commands, comment) created within `adopt_window` seconds, pending,
    running, succeeded or failed, is adopted and its results fetched instead: a rerun never runs a command twice.
    `force` (or adopt_window=0) always starts a new session."""
    request = as_request(request, **settings)
    checked = options(commands, comment)
    check_dest(checked["commands"], dest, request.wait)
    if request.check_mode:
        check_library(client, checked["commands"])
    collector = Collector(client, dest, action_subdir=action_subdir, fail_on_script_error=fail_on_script_error,
                          manifest=manifest, per_device=not request.single)
    return with_script_errors(lambda: run_action(client, SPEC, checked, request.but(
        on_final=collector, max_active=max_sessions, force=request.force or not adopt_window,
        lookback_seconds=adopt_window, after=verify_evidence)))


def with_script_errors(produce):
    """The result of produce() (or of the DefenderActionError it raises) with summary.script_errors: the devices
    whose session ended with a failed command or a script's non-zero exit, without failing the device
    (fail_on_script_error=false)."""
    try:
        result = produce()
    except DefenderActionError as exc:
        _count_script_errors(exc.result)
        raise
    return _count_script_errors(result)


def _count_script_errors(result):
    rows = result.get("results") or []
    tolerated = [r for r in rows if not r.get("failed") and r.get("all_succeeded") is False]
    summary = result.get("summary")
    if isinstance(summary, dict):
        summary["script_errors"] = len(tolerated)
    if tolerated and not result.get("msg"):
        if len(rows) == 1:
            result["msg"] = tolerated[0]["msg"]
        else:
            result["msg"] = "%d of %d device(s) ended with a script error, not counted as failed: %s" % (
                len(tolerated), len(rows), "; ".join("%s: %s" % (r.get("machine"), r["msg"]) for r in tolerated))
    return result


def fetch_results(client, action_id, dest=None, action_subdir=False, fail_on_script_error=True, manifest=False,
                  check_mode=False, wait=True, wait_timeout=900, poll_interval=10):
    """Bring home the results of a session that already ran (or is running), without starting another: after a
    download failed, or for a session started with wait=false. Returns the module result (one device)."""
    action_id = check_guid(action_id)
    service = ActionService(client)
    action = service.get(action_id)
    if action["id"].lower() != action_id:
        raise DefenderResponseError("Asked for action %s, the API answered action %s; nothing was written."
                                    % (action_id, action["id"]), field="id")
    if action.get("type") != SPEC.action_type:
        raise DefenderInputError("Action %s is a %s, not a live response session." % (action_id, action.get("type")))
    commands = [(e.get("command") or {}).get("type") for e in action.get("commands") or []]
    check_dest([{"type": kind} for kind in commands], dest, True)
    row = Row(action.get("machineId"), machine_id=(action.get("machineId") or "").lower(),
              machine_name=action.get("computerDnsName"))
    row.action = action
    if not is_final(action):
        if not wait:
            raise DefenderInputError("Session %s is still %s; set wait=true to wait for it." % (
                action_id, action.get("status")))
        if not check_mode:
            row.action = service.wait(action, wait_timeout, poll_interval, want=None)
    if check_mode:
        row.changed = True
        row.msg = "Would bring home the results of session %s." % action_id
    else:
        collector = Collector(client, dest, action_subdir=action_subdir, fail_on_script_error=fail_on_script_error,
                              manifest=manifest, again=True)
        try:
            collector(row)
        except DefenderError as exc:
            row.fail(exc)
        verify_evidence([row])
        # A file written to the controller is a change there; one that was already there, byte for byte, is not.
        row.changed = any(f.get("downloaded") for f in row.extra.get("files") or [])
    row.adopted = True   # found, not submitted: its results were brought home again
    return with_script_errors(lambda: device_results([row], single=True, client=client))


class Collector:
    """The engine's on_final for live response: fetch one finished session's results and judge them."""

    def __init__(self, client, dest, action_subdir=False, fail_on_script_error=True, manifest=False, per_device=False,
                 again=False):
        self.client = client
        self.again = again  # fetching a session's results again: keep earlier copies rather than add new ones
        self.dest = dest
        self.action_subdir = action_subdir
        self.fail_on_script_error = fail_on_script_error
        self.manifest = manifest
        self.per_device = per_device
        self._claims = {}  # folder or action id -> the device that has it, within this task
        self._claims_lock = threading.Lock()

    def __call__(self, row):
        api_action(row.action)
        if row.action.get("commands") is None:  # list queries leave the commands out: read the whole entity
            row.action = api_action(self.client.get("/api/machineactions/%s" % quote_segment(row.action["id"])))
        action = row.action
        folder = self._folder(row)
        row.extra["commands"], row.extra["files"] = self._collect(action, folder, self.again or row.adopted)
        row.extra["evidence_dir"] = folder if row.extra["files"] or self.manifest else None
        if row.adopted and not self.again:
            self._adopted(row)
        if self.manifest and folder:
            row.extra["manifest"] = write_manifest(folder, action, row, row.extra)
        tolerated = self._judge(action, row.extra)
        if tolerated:
            row.msg = ("%s %s" % (row.msg, tolerated)).strip()

    @staticmethod
    def _adopted(row):
        """A session of the same request that an earlier run (or another task) started: its results were fetched,
        nothing ran again. Bringing files home is a change on the controller."""
        action = row.action
        row.extra["adopted"] = True
        row.changed = any(f.get("downloaded") for f in row.extra["files"])
        row.msg = ("Adopted live response session %s (%s, created %s) of this same request (device, commands, "
                   "comment) instead of running it again; its results were fetched. Set force=true to run a new "
                   "session." % (action["id"], action.get("status"), action.get("creationDateTimeUtc")))

    def _folder(self, row):
        """dest, or with several devices dest/<safe name>-<first 12 of the device id>, then /<action id> with
        action_subdir. No two devices of one task ever get one folder, nor two devices one action id."""
        if not self.dest:
            return None
        action_id = api_guid(row.action["id"], "machine action id")
        folder = self.dest
        with self._claims_lock:
            if self.per_device:
                machine_id = row.machine_id or row.action.get("machineId")
                name = row.machine_name or row.action.get("computerDnsName")
                sub = device_folder(name, machine_id)
                if self._claims.get(sub.lower(), machine_id) != machine_id:  # 48 bits alike: take the whole id
                    sub = device_folder(name, machine_id, id_chars=40)
                self._claims[sub.lower()] = machine_id
                folder = os.path.join(folder, sub)
            if self._claims.setdefault(action_id, row.machine_id) != row.machine_id:
                raise DefenderResponseError("The API gave action id %s to two devices; its results were not "
                                            "written." % action_id, field="id")
        if self.action_subdir:
            folder = os.path.join(folder, action_id)
        return inside(self.dest, folder)

    # --- results -----------------------------------------------------------------------------------
    def _link(self, action_id, index):
        return self.client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=%d)"
                               % (quote_segment(action_id), index))["value"]

    def _download(self, action_id, index, handle_factory, check=None):
        return self.client.download_fresh(lambda: self._link(action_id, index), handle_factory, check=check)

    def _collect(self, action, folder, again):
        """Every command's outcome and results. A result that cannot be brought home is recorded on its command
        (`result_error`) and the others are still fetched: one bad download must not cost the rest.

        A file this session already has in the folder is kept and the new copy dropped: always when fetching
        again (`again`), and otherwise when the earlier copy is provably this session's (see _ours): another task
        may bring the same session home into the same folder at the same time (a rerun beside a first run that is
        still going), and whichever commits second must not leave a second copy or list it in the manifest."""
        commands, files, taken = [], [], []
        for entry in action.get("commands") or []:
            command = entry.get("command") or {}
            kind = command.get("type")
            values = dict((p.get("key"), p.get("value")) for p in command.get("params") or [])
            item = {"index": entry.get("index"), "type": kind, "status": entry.get("commandStatus"),
                    "errors": entry.get("errors") or [], "start_time": entry.get("startTime"),
                    "end_time": entry.get("endTime"), "params": values}
            try:
                if entry.get("commandStatus") == "Completed" and kind == "RunScript":
                    item.update(self._script_result(action["id"], item["index"]))
                elif entry.get("commandStatus") == "Completed" and kind == "GetFile":
                    stored = self._store_file(action["id"], item["index"], values.get("Path"), taken, folder)
                    if again or _ours(folder, action["id"], stored):
                        keep_earlier_copy(stored)
                    else:
                        stored["downloaded"] = True
                    # The command names the copy that is kept, as the file list does.
                    item.update((k, v) for k, v in stored.items() if k != "downloaded")
                    files.append(stored)
            except DefenderError as exc:
                item["result_error"] = str(exc)
                if kind == "RunScript":
                    item.update(exit_code=None, script_output=None, script_errors=None)
            commands.append(item)
        return commands, files

    def _script_result(self, action_id, index):
        buffer = _BoundedBuffer(MAX_SCRIPT_RESULT)
        self._download(action_id, index, buffer.reset, check=read_script_result)
        data = read_script_result(buffer)
        return {"script_name": data.get("script_name"), "exit_code": data.get("exit_code"),
                "script_output": data.get("script_output"), "script_errors": data.get("script_errors")}

    def _store_file(self, action_id, index, remote_path, taken, dest):
        if not dest:
            raise DefenderInputError("dest is required to bring GetFile results home.")
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o750, exist_ok=True)
        except OSError as exc:
            raise DefenderInputError("Cannot create dest %s: %s" % (dest, exc.strerror))
        inside(self.dest or dest, dest)
        name = safe_name(remote_path, taken, dest)
        writers = AttemptWriters(dest, name, inflate=True)  # a gzip result is unpacked as it arrives
        unpacked = []

        def commit(writer):  # a body that does not decode is retried like any other transient fault
            try:
                unpacked.append(commit_unpacked(writer))
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise DefenderIntegrityError("The result of GetFile %s does not decode as gzip (%s)."
                                             % (remote_path, type(exc).__name__))

        try:
            self._download(action_id, index, writers, check=commit)
        except (IOError, OSError) as exc:
            writers.abort()
            raise DefenderActionError("Writing %s into %s failed: %s. Nothing partial was left behind."
                                      % (remote_path, dest, getattr(exc, "strerror", None) or exc))
        except Exception:
            writers.abort()
            raise
        final = writers.last
        taken.append(os.path.basename(final.final_path))  # the name it claimed, which another writer may have moved
        return {"remote_path": remote_path, "path": final.final_path, "size": final.size, "sha256": final.sha256,
                "unpacked": unpacked[-1]}

    def _judge(self, action, result):
        lost = [c for c in result["commands"] if c.get("result_error")]
        if lost:
            result["all_succeeded"] = False
            raise DefenderActionError(
                "Live response %s on %s ran, but %d result(s) could not be brought home: %s" % (
                    action["id"], action.get("computerDnsName"), len(lost),
                    "; ".join("command %s (%s %s): %s" % (c["index"], c["type"], _target(c), c["result_error"])
                              for c in lost)),
                result=result, code="ResultsNotBroughtHome",
                hint="Nothing partial was kept. Fetch the results again without running the session again: "
                     "secops.defender.defender_live_response with action_id=%s." % action["id"])
        status = action.get("status")
        failed = [c for c in result["commands"] if c["status"] == "Failed"]
        nonzero = [c for c in result["commands"] if c["type"] == "RunScript" and c.get("exit_code") not in (0, None)]
        # Not named "failed": Ansible would read that key as the task's own outcome.
        result["all_succeeded"] = not (status != "Succeeded" or failed or nonzero)
        if status in ("TimeOut", "Cancelled"):
            raise DefenderActionError(describe_failure(action), result=result)
        if status != "Succeeded" or failed:
            problem, hint = describe_failure(action), None
        elif nonzero:
            problem = "Live response %s on %s: %s." % (
                action["id"], action.get("computerDnsName"), "; ".join(
                    "%s exited %s%s" % (c["params"].get("ScriptName"), c["exit_code"],
                                        (": " + c["script_errors"].rstrip(". ")) if c.get("script_errors") else "")
                    for c in nonzero))
            hint = "Set fail_on_script_error=false to handle exit codes in the playbook."
        else:
            return None
        if self.fail_on_script_error:
            raise DefenderActionError(problem, result=result, hint=hint)
        # Tolerated, but said: the row's msg tells what went wrong, and summary.script_errors counts it.
        return "%s Not counted as a failure (fail_on_script_error=false): all_succeeded is false." % problem


def _target(command):
    return command["params"].get("ScriptName") or command["params"].get("Path") or ""


def read_script_result(buffer):
    """A RunScript result as a dict, or DefenderIntegrityError: a result without a readable exit code is not one."""
    try:
        data = json.loads(buffer.getvalue().decode("utf-8-sig"))
    except ValueError as exc:
        raise DefenderIntegrityError("The script result is not JSON (%s, %d bytes)." % (type(exc).__name__,
                                                                                        len(buffer.getvalue())))
    exit_code = data.get("exit_code") if isinstance(data, dict) else None
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise DefenderIntegrityError("The script result has no exit code.")
    return data


class _BoundedBuffer(io.BytesIO):
    """Script results are small JSON; refuse to hold more than `limit` bytes of one in memory."""

    def __init__(self, limit):
        io.BytesIO.__init__(self)
        self.limit = limit

    def reset(self):
        self.seek(0)
        self.truncate()
        return self

    def write(self, data):
        if self.tell() + len(data) > self.limit:
            raise DefenderInputError("A script result is larger than %d bytes; fetch large output with GetFile."
                                     % self.limit)
        return io.BytesIO.write(self, data)


def _ours(folder, action_id, item):
    """Whether a file already in `folder` under `item`'s own name can only be this session's: the folder is the
    session's own (action_subdir), or this session's manifest there lists that name with the same SHA-256. In a
    folder that a device's sessions share, another session's file with the same bytes is not this one's evidence."""
    action_id = api_guid(action_id, "machine action id")
    if os.path.basename(folder) == action_id:
        return True
    name = safe_name(item["remote_path"])
    try:
        with open(os.path.join(folder, "manifest-%s.json" % action_id)) as handle:
            listed = json.load(handle).get("files") or []
    except (IOError, OSError, ValueError, AttributeError):
        return False
    return any(isinstance(f, dict) and f.get("name") == name and f.get("sha256") == item["sha256"] for f in listed)


def keep_earlier_copy(item):
    """After a fetch again: when the same file from the same session is already in the folder under its own name,
    drop the new copy and point at the earlier one; `downloaded` says which it was."""
    original = os.path.join(os.path.dirname(item["path"]), safe_name(item["remote_path"]))
    if original == item["path"] or not os.path.isfile(original) or digest(original)[0] != item["sha256"]:
        item["downloaded"] = True
        return
    os.unlink(item["path"])
    item["path"], item["downloaded"] = original, False


def write_manifest(folder, action, row, extra):
    """The chain-of-custody record of one session, beside its evidence. Returns its path."""
    manifest = {
        "collected_by": "secops.defender",
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"id": row.machine_id or action.get("machineId"),
                    "name": row.machine_name or action.get("computerDnsName"), "given": row.given},
        "action_id": action.get("id"),
        "status": action.get("status"),
        "requestor": action.get("requestor"),
        "requestor_comment": action.get("requestorComment"),
        "start_time": action.get("creationDateTimeUtc"),
        "end_time": last_update(action),
        "adopted": bool(extra.get("adopted")),
        "commands": extra.get("commands") or [],
        "files": [{"name": os.path.basename(f["path"]), "remote_path": f["remote_path"], "sha256": f["sha256"],
                   "size": f["size"], "unpacked": f["unpacked"]} for f in extra.get("files") or []],
    }
    action_id = api_guid(action.get("id"), "machine action id")
    name = "manifest.json" if os.path.basename(folder) == action_id else "manifest-%s.json" % action_id
    return write_json(folder, name, manifest)


def verify_evidence(rows):
    """The last check of a task: every file a row (and its manifest) records is on disk with that SHA-256. A file
    replaced or changed after it was written fails its device: the row would otherwise vouch for other bytes."""
    for row in rows:
        if row.failed or not row.extra.get("files"):
            continue
        problems = [p for p in (_check_file(f) for f in row.extra["files"]) if p]
        problems.extend(_check_manifest(row.extra.get("manifest"), row.extra["files"]))
        if problems:
            action_id = (row.action or {}).get("id")
            row.fail(DefenderIntegrityError(
                "Evidence check failed for %s: %s." % (row.machine_name or row.given, "; ".join(problems)),
                code="EvidenceMismatch",
                hint="Do not use these files as evidence. The session's results are still in Defender: bring them "
                     "home again into an empty folder with secops.defender.defender_live_response and "
                     "action_id=%s." % action_id))


def _check_file(item):
    try:
        sha256, size = digest(item["path"])
    except (IOError, OSError) as exc:
        return "%s cannot be read (%s)" % (item["path"], getattr(exc, "strerror", None) or exc)
    if sha256 != item["sha256"] or size != item["size"]:
        return "%s on disk has SHA-256 %s (%d bytes), not the %s (%d bytes) written" % (
            item["path"], sha256, size, item["sha256"], item["size"])
    return None


def _check_manifest(path, files):
    if not path:
        return []
    try:
        with open(path) as handle:
            listed = dict((f.get("name"), f.get("sha256")) for f in json.load(handle).get("files") or [])
    except (IOError, OSError, ValueError) as exc:
        return ["the manifest %s cannot be read (%s)" % (path, type(exc).__name__)]
    names = [(os.path.basename(f["path"]), f["sha256"]) for f in files]
    return ["the manifest %s lists %s with SHA-256 %s, not %s" % (path, name, listed.get(name), sha256)
            for name, sha256 in names if listed.get(name) != sha256]
