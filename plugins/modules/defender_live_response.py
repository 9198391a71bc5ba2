#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: defender_live_response
short_description: Run live response commands on one device or many, and bring the results home
version_added: 0.1.0
description:
  - Runs a Microsoft Defender for Endpoint live response session on one device (O(machine_id), O(machine_name)) or
    on many in one task (O(machines)). A session puts library files on the device (C(PutFile)), runs library
    scripts (C(RunScript)) and fetches files (C(GetFile)), in that order.
  - With O(machines), as many sessions run at once as the limits allow (10 starts a minute through the shared rate
    budget, and at most O(max_sessions) at a time), and each device's results are downloaded as soon as its
    session ends, into a folder of its own under O(dest), C(<computer name>-<first 12 characters of the device
    id>) (the name made safe), so two devices never share a folder, even with one name.
  - By default it waits for the session to end, then returns each command's status and errors, each script's exit
    code, output and errors, and downloads each fetched file into O(dest).
  - Downloads are streamed to disk (a fetched file can be gigabytes), written to a temporary file and renamed, and
    unpacked when the API serves them gzip-compressed. File names come from the remote path, made safe (the base
    name only; no C(..), separators, control characters or Windows device names). An existing file is never
    overwritten; each file claims its name atomically, and takes a C(-1), C(-2) suffix when the name is taken,
    also by a writer running at the same time. An expired result link is asked for again. The bearer token is never
    sent to the download host.
  - Ids the API answers (action ids, device ids) are checked by their documented shape (a GUID, 40 hexadecimal
    characters) before they are used in a path or URL; another answer fails the device with code
    C(UnexpectedResponse), naming the field.
  - When every device's session has ended, each downloaded file is hashed again on disk and compared with its
    result row and its manifest. A mismatch fails that device (code C(EvidenceMismatch)).
  - A failed command or a script's non-zero exit code fails the task, and the results are still returned. Set
    O(fail_on_script_error=false) to decide in the playbook instead.
  - A device runs one live response session at a time. When another one is running, the device fails and the
    message names that action, or with O(on_active_action=wait) it waits for it to end and then runs.
  - A rerun never runs a command twice on a device. A session of the same request (the same device, commands with
    their arguments, and comment) created within O(adopt_window), that is pending, running, succeeded or failed, is
    adopted; the module waits for it if needed and brings its results home (files already there are kept, not
    fetched twice), with C(adopted=true) and C(changed=false) unless a file was written. It is found by the
    C(ExternalID) the module sends (it carries a digest of the request), or, where the API does not echo it, by its
    comment and commands. So after a crash (even C(kill -9)) or a failed task, running the task again collects what
    the first run started. A session that timed out or was cancelled is not adopted. Set O(force=true) to run a new
    session anyway.
  - Every download is checked before it counts as evidence. It must be as long as the storage said, match its
    C(Content-MD5) when one is given, and decode (gzip when it is gzip; a script result must be JSON with an exit
    code). A short, corrupt or unreadable download is fetched again (a fresh link when the old one expired), a few
    times; when it still fails, nothing partial is kept, the device fails with its O(action_id) and the other
    commands' results are still returned.
  - To bring home the results of a session that already ran, without running it again (after a failed download, or
    for a session started with O(wait=false)), give its O(action_id) instead of O(commands) and the device.
author:
  - Secops Defender Contributors (@secops-collections)
options:
  commands:
    description:
      - The commands to run, in order. The API requires all C(PutFile) commands first, then C(RunScript), then
        C(GetFile); the order is checked before anything is sent.
      - Library names (O(commands[].file_name), O(commands[].script_name)) are file names, without a path.
      - Required unless O(action_id) is given.
    type: list
    elements: dict
    suboptions:
      type:
        description:
          - The command.
        type: str
        required: true
        choices: [PutFile, RunScript, GetFile]
      file_name:
        description:
          - For C(PutFile), the name of the library file to put on the device.
        type: str
      script_name:
        description:
          - For C(RunScript), the name of the library script to run.
        type: str
      args:
        description:
          - For C(RunScript), the script's arguments, as one string.
        type: str
      path:
        description:
          - For C(GetFile), the full path of the file on the device.
        type: str
  action_id:
    description:
      - The id of a live response session that already ran or is running. Its results are brought home (waiting
        for it to end, with O(wait=true)) and nothing is sent to the device.
      - Use it when a download failed after the session ran (the failed task returns the id), or to collect a
        session started with O(wait=false).
      - Mutually exclusive with O(commands), O(machine_id), O(machine_name) and O(machines).
    type: str
    version_added: 0.2.0
  comment:
    description:
      - The comment recorded with the session.
    type: str
    default: Live response, requested by Ansible (secops.defender)
  dest:
    description:
      - The local directory where C(GetFile) results are written. It is created if needed.
      - With O(machines), each device gets a subdirectory C(<computer name>-<first 12 characters of the device id>),
        the computer name made safe for a file name (for example C(ws-fin-001.corp.example.com-1e5bc9d7e413)).
      - Required when there are C(GetFile) commands and O(wait=true). It is checked (a directory, writable)
        before any session starts.
    type: path
  manifest:
    description:
      - Write a chain-of-custody manifest beside each session's evidence, C(manifest.json) with
        O(action_subdir=true), else C(manifest-<action id>.json). It records the device, action id, requestor,
        comment, start and end time, every command with its status and exit code, and each file's remote path,
        size and SHA-256.
    type: bool
    default: false
  on_active_action:
    description:
      - What to do when the API refuses the session because another live response session or action is already
        pending on the device (C(ActiveRequestAlreadyExists), or the older "Action is already in progress").
      - V(fail) fails that device, naming the pending action.
      - V(wait) waits for it to end (within O(wait_timeout)) and then starts the session.
      - Called C(on_active_session) in 0.1.0; the old name still works as an alias.
    type: str
    choices: [fail, wait]
    default: fail
    aliases: [on_active_session]
  wait_timeout:
    description:
      - How many seconds to wait at most for the session (or for O(action_id)'s session) to end. The session goes
        on in Defender when the wait runs out; bring its results home later with O(action_id).
      - The default is an hour, because the limits of live response
        (L(Microsoft Learn,https://learn.microsoft.com/en-us/defender-endpoint/live-response#limitations)) let C(run)
        and C(getfile) take 30 minutes each.
    type: int
    default: 3600
  max_sessions:
    description:
      - With O(machines), the most sessions this task keeps running at once. The documented tenant-wide cap is 25
        concurrent sessions
        (L(Run live response API,https://learn.microsoft.com/en-us/defender-endpoint/api/run-live-response); one later
        page says 50); leave room for other responders.
    type: int
    default: 25
  action_subdir:
    description:
      - Put the downloaded files in a subdirectory of O(dest) named after the action id, so that every session's
        evidence stays apart (the layout the P(secops.defender.collect_forensics#role) role uses).
    type: bool
    default: false
  force:
    description:
      - Start a new session even when a session of the same request (device, commands, comment) was created
        within O(adopt_window). Without it, that session is adopted and its results are brought home.
    type: bool
    default: false
    version_added: 0.3.0
  adopt_window:
    description:
      - How many seconds back a session of the same request is adopted instead of running the commands again
        (see the description). A day by default, at most 30 days; V(0) never adopts, like O(force=true).
    type: int
    default: 86400
    version_added: 0.3.0
  fail_on_script_error:
    description:
      - Whether a failed command or a script's non-zero exit code fails the device.
      - With V(false) such a device is not failed, but its RV(results[].msg) (and, for one device, the task's
        C(msg)) says which command or script went wrong, and RV(summary.script_errors) counts it.
      - A session that timed out or was cancelled always fails the device.
    type: bool
    default: true
extends_documentation_fragment:
  - secops.defender.auth
  - secops.defender.auth.MACHINE
  - secops.defender.auth.WAIT
  - secops.defender.attributes
  - secops.defender.attributes.CHECK_MODE_FULL
  - secops.defender.attributes.DIFF_MODE_NONE
notes:
  - Needs the application permission C(Machine.LiveResponse), and C(Machine.Read.All) (or C(Machine.ReadWrite.All))
    to find the device and to get the result links (C(GetLiveResponseResultDownloadLink) needs read permission, not
    C(Machine.LiveResponse)). Check mode also needs C(Library.Manage) to read the library.
  - In check mode the module confirms that the devices exist and that every C(PutFile) and C(RunScript) name is
    in the library, and reports C(changed=true) for each device that would get a session, without starting one. A
    device with a session of the same request that would be adopted reports C(changed=false).
  - The API allows 10 live response requests a minute and a tenant-wide number of concurrent sessions
    (L(Run live response API,https://learn.microsoft.com/en-us/defender-endpoint/api/run-live-response)). Over
    either limit it answers 429, and the module waits as C(Retry-After) says, within O(max_retry_wait).
  - A script runs for at most 10 minutes on the device by the
    L(Run live response API,https://learn.microsoft.com/en-us/defender-endpoint/api/run-live-response) page;
    L(the limits of live response,https://learn.microsoft.com/en-us/defender-endpoint/live-response#limitations)
    (03/2025) give 30 minutes for C(run) and C(getfile). O(wait_timeout) defaults to an hour to fit either.
seealso:
  - module: secops.defender.defender_library_file
  - module: secops.defender.defender_cancel_action
  - name: Run live response API
    description: Microsoft's documentation of the API this module calls.
    link: https://learn.microsoft.com/defender-endpoint/api/run-live-response
  - name: Get live response results API
    description: The call that gives each command's result link.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/get-live-response-result
  - name: Investigate entities on devices using live response
    description: Live response itself, with its limits (sessions, command time-outs, file sizes).
    link: https://learn.microsoft.com/en-us/defender-endpoint/live-response#limitations
"""

EXAMPLES = r"""
- name: Triage every affected device at once, evidence per device with a chain-of-custody manifest
  secops.defender.defender_live_response:
    machines: "{{ affected_devices }}"
    comment: "INC-4711: triage"
    commands:
      - type: RunScript
        script_name: collect_triage.ps1
      - type: GetFile
        path: C:\Windows\Temp\secops-triage.zip
    dest: evidence/INC-4711           # evidence/INC-4711/<device>-<12 of its id>/<action id>/...
    action_subdir: true
    manifest: true
    on_active_action: wait
    fail_on_device_error: false
  register: triage

- name: Make sure the triage script is in the library
  secops.defender.defender_library_file:
    src: files/collect_triage.ps1
    description: Collect triage data

- name: Run it and fetch its output
  secops.defender.defender_live_response:
    machine_name: ws-fin-001.corp.example.com
    comment: "INC-4711: triage"
    commands:
      - type: RunScript
        script_name: collect_triage.ps1
        args: -Full
      - type: GetFile
        path: C:\Windows\Temp\triage.txt
    dest: "evidence/ws-fin-001"
  register: triage

- name: Show what the script said
  ansible.builtin.debug:
    msg: "{{ triage.commands[0].script_output }}"

- name: Bring home the results of a session that ran, without running it again (after a failed download)
  secops.defender.defender_live_response:
    action_id: "{{ triage.action_id }}"
    dest: "evidence/ws-fin-001"
  when: triage is failed and triage.action_id is defined

- name: Let the playbook judge the exit code, and queue behind a running session
  secops.defender.defender_live_response:
    machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
    commands:
      - type: RunScript
        script_name: check_persistence.ps1
    fail_on_script_error: false
    on_active_action: wait
  register: check
"""

RETURN = r"""
results:
  description:
    - One row per device, in the order given; the same id or name given twice makes one row. A device given both by id
      and by name is acted on once, and its second row fails and says so.
    - A failed row has its own C(error). The task's RV(error) is that one when one device was given, or when every
      failed device failed for the same coded reason (a spent rate budget, a missing permission); otherwise it carries
      only the task's message.
  returned: always
  type: list
  elements: dict
  contains:
    machine:
      description: The device as it was given, a name or an id (ids in lower case).
      type: str
    machine_id:
      description: The device's machine id, in lower case; V(null) when it is not known, for example for a name that
        matched no device, or several.
      type: str
    machine_name:
      description: The device's computer DNS name, when known.
      type: str
    action_id:
      description: The id of the action submitted for the device, or of the one found that made a new one unneeded
        (the module's description says which count). V(null) when there is neither, in check mode for a device that
        would get a new action, for a device that failed before its action was submitted, and for a device already in
        the state asked for without any action (for example a release of a device that was never isolated).
      type: str
    status:
      description: The action's status when the module finished, V(Pending), V(InProgress), V(Succeeded), V(Failed),
        V(TimeOut) or V(Cancelled); V(null) when there is no action.
      type: str
    changed:
      description: Whether a session was started on this device; for a session found and brought home instead
        (C(adopted)), or with O(action_id), whether a file was written on the controller. In check mode, whether a
        session would be started (with O(action_id), always V(true)).
      type: bool
    failed:
      description: Whether this device failed.
      type: bool
    msg:
      description: What happened, for a failure what to do next.
      type: str
    error:
      description: Why this device failed, with the same keys as RV(error).
      returned: when this device failed
      type: dict
    commands:
      description: The session's commands, as in RV(commands).
      returned: once the session ended
      type: list
      elements: dict
    files:
      description: The files downloaded, as in RV(files).
      returned: once the session ended
      type: list
      elements: dict
    all_succeeded:
      description: Whether the session succeeded, every command completed and every script exited 0.
      returned: once the session ended
      type: bool
    evidence_dir:
      description: The folder this device's files and manifest were written to. With O(machines) it is
        O(dest)/C(<computer name>-<first 12 characters of the device id>), for one device O(dest) itself; then
        C(/<action id>) with O(action_subdir=true). V(null) when neither a file nor a manifest was written.
      returned: once the session ended
      type: str
    manifest:
      description: The path of the device's chain-of-custody manifest.
      returned: with O(manifest=true) and O(dest), once the session ended
      type: str
    adopted:
      description: V(true) when the session was one of the same request, found and brought home instead of run again
        (see RV(adopted)).
      returned: when such a session was found
      type: bool
  sample:
    - machine: ws-fin-001
      machine_id: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
      machine_name: ws-fin-001.corp.example.com
      action_id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
      status: Succeeded
      changed: true
      failed: false
      msg: ""
      all_succeeded: true
      evidence_dir: /evidence/INC-4711/ws-fin-001.corp.example.com-1e5bc9d7e413/7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
      manifest: /evidence/INC-4711/ws-fin-001.corp.example.com-1e5bc9d7e413/7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01/manifest.json
      files: []
      commands: []
failed_machines:
  description: The devices that failed, as they were given, in the order given.
  returned: always
  type: list
  elements: str
  sample: [lt-sales-007.corp.example.com]
summary:
  description: How many devices got a new action, needed none, would get one (check mode) or failed. Each device
    counts once.
  returned: always
  type: dict
  contains:
    devices:
      description: How many rows RV(results) has.
      type: int
    submitted:
      description: The devices an action was submitted for.
      type: int
    already_done:
      description: The devices that needed no new action, because one was found (the module's description says which
        count) or the device already was in the state asked for.
      type: int
    would_submit:
      description: In check mode, the devices that would get a new action.
      type: int
    failed:
      description: The devices that failed, as in RV(failed_machines).
      type: int
    script_errors:
      description: The devices whose session had a failed command or a script that exited non-zero, and that are
        not counted in RV(summary.failed) because O(fail_on_script_error=false); each one's RV(results[].msg) says
        what went wrong.
      type: int
      version_added: 0.3.0
  sample: {devices: 3, submitted: 2, already_done: 0, would_submit: 0, failed: 1, script_errors: 1}
rate_budget:
  description: What this task saw of the tenant's rate budget, shared by every task on the controller (see
    O(rate_budget)). Shown at C(-v).
  returned: unless O(rate_budget=false)
  type: dict
  contains:
    calls:
      description: The API calls this task made.
      type: int
    paced_calls:
      description: How many of them waited for a free slot before they were sent.
      type: int
    paced_seconds:
      description: How many seconds they waited in all.
      type: float
    rate_limited:
      description: How many times the API answered 429 (too many requests).
      type: int
  sample: {calls: 12, paced_calls: 0, paced_seconds: 0.0, rate_limited: 0}
evidence_dir:
  description: The folder this device's files (and manifest) were written to, O(dest), then C(/<action id>) with
    O(action_subdir=true); V(null) when neither a file nor a manifest was written.
  returned: for one device (not with O(machines)), once the session ended
  type: str
  sample: /evidence/ws-fin-001
manifest:
  description: The path of the chain-of-custody manifest.
  returned: for one device (not with O(machines)), with O(manifest=true) and O(dest), once the session ended
  type: str
  sample: /evidence/ws-fin-001/7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01/manifest.json
action_id:
  description: The id of the action submitted for the device, or of the one found that made a new one unneeded (the
    module's description says which count). V(null) when there is neither, in check mode for a device that would get a
    new action, for a device that failed before its action was submitted, and for a device already in the state asked
    for without any action (for example a release of a device that was never isolated).
  returned: for one device (not with O(machines))
  type: str
  sample: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
status:
  description: The action's status when the module finished, V(Pending), V(InProgress), V(Succeeded), V(Failed),
    V(TimeOut) or V(Cancelled); V(null) when there is no action.
  returned: for one device (not with O(machines))
  type: str
  sample: Succeeded
adopted:
  description:
    - Whether the session was one of the same request (device, commands, comment) created within O(adopt_window),
      found and brought home instead of running the commands again (after a crash or a failed run). Also in each
      row of RV(results), and in the manifest.
  returned: for one device (not with O(machines)), when such a session was found and the module waited
  type: bool
  sample: false
  version_added: 0.3.0
all_succeeded:
  description: Whether the session succeeded, every command completed and every script exited 0. Useful with
    O(fail_on_script_error=false).
  returned: for one device (not with O(machines)), once the session ended
  type: bool
  sample: true
machine_action:
  description: The MachineAction entity of RV(action_id) as the API returned it, unmodified; V(null) when there is
    none.
  returned: for one device (not with O(machines))
  type: dict
  sample:
    id: 7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01
    type: LiveResponse
    status: Succeeded
machine_id:
  description: The id of the device, in lower case.
  returned: for one device (not with O(machines))
  type: str
  sample: 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
machine_name:
  description: The computer DNS name of the device.
  returned: for one device (not with O(machines))
  type: str
  sample: ws-fin-001.corp.example.com
commands:
  description: One entry per command, in order.
  returned: for one device (not with O(machines)), once the session ended
  type: list
  elements: dict
  contains:
    index:
      description: The command's position, from 0.
      type: int
    type:
      description: V(PutFile), V(RunScript) or V(GetFile).
      type: str
    status:
      description: The command's status, for example V(Completed), V(Failed) or V(Created) (never ran).
      type: str
    errors:
      description: The errors the device reported for the command.
      type: list
      elements: str
    params:
      description: The command's parameters, as sent.
      type: dict
    start_time:
      description: When the command started on the device.
      type: str
    end_time:
      description: When the command ended on the device.
      type: str
    script_name:
      description: For a completed C(RunScript), the script's name as its result gives it.
      type: str
    exit_code:
      description: For a completed C(RunScript), the script's exit code.
      type: int
    script_output:
      description: For a completed C(RunScript), what the script wrote to standard output.
      type: str
    script_errors:
      description: For a completed C(RunScript), what the script wrote to standard error.
      type: str
    path:
      description: For a completed C(GetFile), the local path of the downloaded file.
      type: str
    size:
      description: For a completed C(GetFile), the size in bytes of the downloaded (unpacked) file.
      type: int
    sha256:
      description: For a completed C(GetFile), the SHA-256 of the downloaded (unpacked) file.
      type: str
    remote_path:
      description: For a completed C(GetFile), the path on the device.
      type: str
    result_error:
      description: When the command completed but its result could not be brought home (a download that stayed
        corrupt or failed), why. The device then fails; fetch the results again with O(action_id).
      type: str
    unpacked:
      description: For a completed C(GetFile), whether the API served it gzip-compressed and it was unpacked.
      type: bool
files:
  description: The downloaded files, one entry per completed C(GetFile).
  returned: for one device (not with O(machines)), once the session ended
  type: list
  elements: dict
  contains:
    remote_path:
      description: The path on the device.
      type: str
    path:
      description: The local path of the file.
      type: str
    size:
      description: Its size in bytes (unpacked).
      type: int
    sha256:
      description: Its SHA-256 (unpacked), checked again on disk when every session had ended.
      type: str
    unpacked:
      description: Whether the API served it gzip-compressed and it was unpacked.
      type: bool
    downloaded:
      description: Whether this run wrote the file. V(false) when the results of a session were fetched again
        (O(action_id), or a session found and brought home) and the same file was already there under its own name;
        it is then not written twice and RV(files[].path) is the earlier copy.
      type: bool
      version_added: 0.2.0
  sample:
    - remote_path: C:\Windows\Temp\triage.txt
      path: /evidence/ws-fin-001/triage.txt
      size: 200000
      sha256: bef5b6fe9d0c7b46fe027fb593be4a883b233e1e590ebde0dd71efdc0aa67363
      unpacked: true
      downloaded: true
error:
  description: Why the task failed. For an error the API answered, what it said; for any other failure (bad input, no
    connection, a check that did not pass) the module's own reason, with V(null) for what does not apply.
  returned: on failure
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request; V(null) when no HTTP answer is behind the failure.
      type: int
    code:
      description: The API's error code, for example V(ResourceNotFound) or V(OsPlatformNotSupported) (see L(the API's
        error codes,https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors)), or the module's own, for
        example V(ConnectTimeout), V(RateBudgetSpent) or V(UnexpectedResponse); V(null) when there is none.
      type: str
    message:
      description: The API's error message, or the module's own when the API gave none.
      type: str
    correlation_id:
      description: The id Microsoft support asks for, the C(target) of the API's error (or the answer's request id
        header when the error has none); V(null) when the answer had neither.
      type: str
    method:
      description: The HTTP method of the failed request; V(null) when no request failed.
      type: str
    path:
      description: The path of the failed request (for a download, without its query, which is a credential); V(null)
        when no request failed.
      type: str
wait_progress:
  description:
    - What a wait longer than a minute said once a minute, how many actions were still open (by status) and the ones
      open longest, by device name. Shown at C(-v).
  returned: when the task waited longer than a minute
  type: list
  elements: str
  sample:
    - "After 60 s of waiting: 1 of 2 action(s) still open (1 Pending); open longest: lt-sales-007.corp.example.com
      (StopAndQuarantineFile Pending since 2026-12-01T16:02:11Z)."
  version_added: 0.3.0
"""

from ansible_collections.secops.defender.plugins.module_utils._live_response import (
    DEFAULT_ADOPT_WINDOW,
    DEFAULT_MAX_SESSIONS,
    fetch_results,
    live_response,
)
from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
from ansible_collections.secops.defender.plugins.module_utils._options import (
    FLEET_ARGSPEC,
    TARGET_ARGSPEC,
    TARGETS,
    WAIT_ARGSPEC,
)

# A command may run for 30 minutes (Microsoft Learn, live response limitations,
# https://learn.microsoft.com/en-us/defender-endpoint/live-response#limitations), and a session runs several:
# wait for an hour.
WAIT_TIMEOUT = 3600


def main():
    argument_spec = dict(
        commands=dict(type="list", elements="dict", options=dict(
            type=dict(type="str", required=True, choices=["PutFile", "RunScript", "GetFile"]),
            file_name=dict(type="str"),
            script_name=dict(type="str"),
            args=dict(type="str"),
            path=dict(type="str"),
        )),
        action_id=dict(type="str"),
        comment=dict(type="str", default="Live response, requested by Ansible (secops.defender)"),
        dest=dict(type="path"),
        action_subdir=dict(type="bool", default=False),
        manifest=dict(type="bool", default=False),
        max_sessions=dict(type="int", default=DEFAULT_MAX_SESSIONS),
        force=dict(type="bool", default=False),
        adopt_window=dict(type="int", default=DEFAULT_ADOPT_WINDOW),
        fail_on_script_error=dict(type="bool", default=True),
    )
    for shared in (TARGET_ARGSPEC, FLEET_ARGSPEC, WAIT_ARGSPEC):
        argument_spec.update(shared)
    argument_spec["on_active_action"] = dict(FLEET_ARGSPEC["on_active_action"], aliases=["on_active_session"])
    argument_spec["wait_timeout"] = dict(type="int", default=WAIT_TIMEOUT)
    module = DefenderModule(argument_spec, supports_check_mode=True,
                            required_one_of=[TARGETS + ("action_id",), ("commands", "action_id")],
                            mutually_exclusive=[TARGETS + ("action_id",), ("commands", "action_id")])
    module.run(run)


def run(module):
    params = module.params
    if params["action_id"]:
        return fetch_results(module.client, params["action_id"], dest=params["dest"],
                             action_subdir=params["action_subdir"], fail_on_script_error=params["fail_on_script_error"],
                             manifest=params["manifest"], check_mode=module.check_mode, wait=params["wait"],
                             wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"])
    return live_response(module.client, params["commands"], params["comment"], dest=params["dest"],
                         action_subdir=params["action_subdir"], fail_on_script_error=params["fail_on_script_error"],
                         manifest=params["manifest"], max_sessions=params["max_sessions"],
                         adopt_window=params["adopt_window"], request=module.fleet_request())


if __name__ == "__main__":
    main()
