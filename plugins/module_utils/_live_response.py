# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: live response. Validate commands, submit (busy machines handled on purpose),
wait, and bring results home: script output parsed, files streamed to disk, unpacked, hashed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os

from ansible_collections.secops.defender.plugins.module_utils._actions import (
    ACTIVE,
    ActionService,
    describe_failure,
    summary,
)
from ansible_collections.secops.defender.plugins.module_utils._client import quote_segment
from ansible_collections.secops.defender.plugins.module_utils._errors import (
    DefenderActionError,
    DefenderApiError,
    DefenderInputError,
)
from ansible_collections.secops.defender.plugins.module_utils._files import (
    AtomicWriter,
    commit_unpacked,
    safe_name,
)
from ansible_collections.secops.defender.plugins.module_utils._library import list_library
from ansible_collections.secops.defender.plugins.module_utils._machines import resolve

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


class LiveResponse:
    def __init__(self, client, params, check_mode):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.actions = ActionService(client)

    def run(self):
        params = self.params
        commands = build_commands(params["commands"])
        has_getfile = any(c["type"] == "GetFile" for c in commands)
        if has_getfile and params["wait"] and not params.get("dest"):
            raise DefenderInputError("dest is required to bring GetFile results home.")
        machine = resolve(self.client, params.get("machine_id"), params.get("machine_name"))
        result = {"machine_id": machine["id"], "machine_name": machine.get("computerDnsName"), "changed": True}
        if self.check_mode:
            self._check_library(commands)
            result.update(action_id=None, status=None, machine_action=None, commands=[], files=[])
            return result
        deadline = self.actions.clock() + params["wait_timeout"]
        action = self._submit(machine, commands, deadline)
        result.update(summary(action))
        if not params["wait"]:
            return result
        action = self.actions.wait(action, max(0, deadline - self.actions.clock()), params["poll_interval"],
                                   result=result, want=None)
        result.update(summary(action))
        result["commands"], result["files"] = self._collect(action)
        self._judge(action, result)
        return result

    def _check_library(self, commands):
        names = library_names(commands)
        if not names:
            return
        present = set(f.get("fileName", "").lower() for f in list_library(self.client))
        missing = [n for n in names if n.lower() not in present]
        if missing:
            raise DefenderInputError("Not in the live response library: %s. Upload with "
                                     "secops.defender.defender_library_file first." % ", ".join(missing))

    def _open_sessions(self, machine):
        return self.actions.list(machine_ids=[machine["id"]], types=["LiveResponse"], statuses=list(ACTIVE))

    def _submit(self, machine, commands, deadline):
        body = {"Comment": self.params["comment"], "Commands": commands}

        def ours():
            return next((a for a in self._open_sessions(machine)
                         if a.get("requestorComment") == self.params["comment"]), None)

        while True:
            try:
                return self.actions.submit(machine["id"], "runliveresponse", body, ours)
            except DefenderApiError as exc:
                if exc.code != "ActiveRequestAlreadyExists" and "already in progress" not in (exc.api_message or ""):
                    raise
                running = next(iter(self._open_sessions(machine)), None)
                running_id = running["id"] if running else "unknown (it may have been started from the portal)"
                if self.params["on_active_session"] != "wait" or running is None:
                    exc.message = ("Machine %s already has a live response session running: action %s."
                                   % (machine.get("computerDnsName"), running_id))
                    exc.hint = ("Set on_active_session=wait to run after it, or cancel it with "
                                "secops.defender.defender_cancel_action.")
                    raise
                self.actions.wait(running, max(0, deadline - self.actions.clock()), self.params["poll_interval"],
                                  want=None)

    # --- results -----------------------------------------------------------------------------------
    def _link(self, action_id, index):
        return self.client.get("/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=%d)"
                               % (quote_segment(action_id), index))["value"]

    def _download(self, action_id, index, handle_factory):
        """Fetch a result through its link; a link that expired on the way is asked for once more."""
        for attempt in (1, 2):
            handle = handle_factory()
            try:
                return self.client.download(self._link(action_id, index), handle)
            except DefenderApiError as exc:
                if exc.status != 403 or attempt == 2:
                    raise

    def _collect(self, action):
        commands, files, taken = [], [], []
        for entry in action.get("commands") or []:
            command = entry.get("command") or {}
            kind = command.get("type")
            values = dict((p.get("key"), p.get("value")) for p in command.get("params") or [])
            item = {"index": entry.get("index"), "type": kind, "status": entry.get("commandStatus"),
                    "errors": entry.get("errors") or [], "start_time": entry.get("startTime"),
                    "end_time": entry.get("endTime"), "params": values}
            if entry.get("commandStatus") == "Completed" and kind == "RunScript":
                item.update(self._script_result(action["id"], item["index"]))
            elif entry.get("commandStatus") == "Completed" and kind == "GetFile":
                stored = self._store_file(action["id"], item["index"], values.get("Path"), taken)
                item.update(stored)
                files.append(stored)
            commands.append(item)
        return commands, files

    def _script_result(self, action_id, index):
        buffer = _BoundedBuffer(MAX_SCRIPT_RESULT)
        self._download(action_id, index, buffer.reset)
        try:
            data = json.loads(buffer.getvalue().decode("utf-8-sig"))
        except ValueError:
            return {"exit_code": None, "script_output": buffer.getvalue().decode("utf-8", "replace"),
                    "script_errors": "The script result was not JSON."}
        return {"script_name": data.get("script_name"), "exit_code": data.get("exit_code"),
                "script_output": data.get("script_output"), "script_errors": data.get("script_errors")}

    def _store_file(self, action_id, index, remote_path, taken):
        dest = self.params["dest"]
        if self.params.get("action_subdir"):
            dest = os.path.join(dest, action_id)
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o750)
        except OSError as exc:
            raise DefenderInputError("Cannot create dest %s: %s" % (dest, exc.strerror))
        name = safe_name(remote_path, taken, dest)
        taken.append(name)
        writers = []

        def fresh():
            for old in writers:
                old.abort()
            writers.append(AtomicWriter(dest, name))
            return writers[-1]

        try:
            self._download(action_id, index, fresh)
            unpacked = commit_unpacked(writers[-1])
        except (IOError, OSError) as exc:
            for writer in writers:
                writer.abort()
            raise DefenderActionError("Writing %s into %s failed: %s. Nothing partial was left behind."
                                      % (remote_path, dest, getattr(exc, "strerror", None) or exc))
        except Exception:
            for writer in writers:
                writer.abort()
            raise
        final = writers[-1]
        return {"remote_path": remote_path, "path": final.final_path, "size": final.size, "sha256": final.sha256,
                "unpacked": unpacked}

    def _judge(self, action, result):
        status = action.get("status")
        failed = [c for c in result["commands"] if c["status"] == "Failed"]
        nonzero = [c for c in result["commands"] if c["type"] == "RunScript" and c.get("exit_code") not in (0, None)]
        # Not named "failed": Ansible would read that key as the task's own outcome.
        result["all_succeeded"] = not (status != "Succeeded" or failed or nonzero)
        if status in ("TimeOut", "Cancelled"):
            raise DefenderActionError(describe_failure(action), result=result)
        if not self.params["fail_on_script_error"]:
            return
        if status != "Succeeded" or failed:
            raise DefenderActionError(describe_failure(action), result=result)
        if nonzero:
            raise DefenderActionError("Live response %s on %s: %s." % (
                action["id"], action.get("computerDnsName"), "; ".join(
                    "%s exited %s%s" % (c["params"].get("ScriptName"), c["exit_code"],
                                        (": " + c["script_errors"].rstrip(". ")) if c.get("script_errors") else "")
                    for c in nonzero)), result=result,
                hint="Set fail_on_script_error=false to handle exit codes in the playbook.")


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
