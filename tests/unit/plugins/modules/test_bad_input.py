"""The bad-input suite: malformed task options across every module, each refused with its own clear message and
without a single request reaching the emulator (no sign-in, no API call).

Each case runs the module's real main() in-process with the options a playbook would pass, against a live emulator
over HTTPS; after each one the emulator's request log must be empty."""

import contextlib
import importlib
import json
import os
from unittest import mock

import pytest

from ansible.module_utils import basic
from mde_emulator import Emulator
from mde_emulator.seeding import load_seed

WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"
GUID = "7c4f2a1e-0b5d-4e3a-9f1c-2d8e6b4a9c01"
RANGE = "must be between"
EXCLUSIVE = "mutually exclusive"
CHOICES = "must be one of"
NOT_ID = "is not a device id"
NOT_GUID = "is not a GUID"
PLAIN_HTTP = "Refusing plain http"
RESPONDER = ("11111111-1111-4111-8111-111111111111", "emulator-secret-responder")

try:  # ansible-core 2.19 and newer
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # 2.16 to 2.18: the arguments a module reads from stdin, set the way those releases did it
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield

# (case id, module, options, what the message must say). Paths under "{tmp}" are made per case.
CASES = [
    # --- defender_quarantine_file: the shared machine, wait, fleet and connection options -------------------
    ("q-sha1-short", "quarantine_file", {"machine_id": WS1, "sha1": "xyz"}, "SHA-1"),
    ("q-sha1-is-sha256", "quarantine_file", {"machine_id": WS1, "sha1": "a" * 64}, "SHA-1"),
    ("q-sha1-not-hex", "quarantine_file", {"machine_id": WS1, "sha1": "g" * 40}, "SHA-1"),
    ("q-sha1-empty", "quarantine_file", {"machine_id": WS1, "sha1": ""}, "SHA-1"),
    ("q-id-short", "quarantine_file", {"machine_id": "abc", "sha1": SHA1}, NOT_ID),
    ("q-id-41", "quarantine_file", {"machine_id": WS1 + "0", "sha1": SHA1}, NOT_ID),
    ("q-id-path", "quarantine_file", {"machine_id": "../machineactions", "sha1": SHA1}, NOT_ID),
    ("q-machines-empty", "quarantine_file", {"machines": [], "sha1": SHA1}, "machines is empty"),
    ("q-machines-blank", "quarantine_file", {"machines": [WS1, " "], "sha1": SHA1}, "empty item"),
    ("q-wait-timeout-0", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "wait_timeout": 0}, "wait_timeout " + RANGE),
    ("q-wait-timeout-neg", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "wait_timeout": -5},
     "wait_timeout " + RANGE),
    ("q-wait-timeout-huge", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "wait_timeout": 10 ** 9},
     "wait_timeout " + RANGE),
    ("q-poll-0", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "poll_interval": 0}, "poll_interval " + RANGE),
    ("q-poll-neg", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "poll_interval": -1},
     "poll_interval " + RANGE),
    ("q-poll-over-wait", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "poll_interval": 100, "wait_timeout": 50},
     "must not be longer than wait_timeout"),
    ("q-concurrency-0", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "concurrency": 0}, "concurrency " + RANGE),
    ("q-concurrency-1000", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "concurrency": 1000},
     "concurrency " + RANGE),
    ("q-lookback-0", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "dedupe_lookback_days": 0},
     "dedupe_lookback_days " + RANGE),
    ("q-lookback-400", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "dedupe_lookback_days": 400},
     "dedupe_lookback_days " + RANGE),
    ("q-timeout-0", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "timeout": 0}, "timeout " + RANGE),
    ("q-timeout-huge", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "timeout": 100000}, "timeout " + RANGE),
    ("q-max-retry-wait-neg", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "max_retry_wait": -1},
     "max_retry_wait " + RANGE),
    ("q-wait-timeout-text", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "wait_timeout": "soon"},
     "wait_timeout"),
    ("q-two-targets", "quarantine_file", {"machine_id": WS1, "machines": [WS1], "sha1": SHA1}, EXCLUSIVE),
    ("q-no-target", "quarantine_file", {"sha1": SHA1}, "one of the following is required"),
    ("q-api-http", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "api_url": "http://{host}"}, PLAIN_HTTP),
    ("q-authority-http", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "authority_url": "http://{host}"},
     PLAIN_HTTP),
    # the local state folder: a file where the folder should be, a folder below a file, one nobody may write in
    # (/sys/kernel refuses new files even to root, where a chmod would not)
    ("q-state-is-file", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "token_cache_dir": "{tmp}/file"},
     "local state folder {tmp}/file"),
    ("q-state-under-file", "quarantine_file", {"machine_id": WS1, "sha1": SHA1,
                                               "token_cache_dir": "{tmp}/file/cache"}, "token_cache_dir"),
    ("q-state-unwritable", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "token_cache_dir": "/sys/kernel"},
     "local state folder /sys/kernel"),
    ("info-state-unwritable", "machine_info", {"machine_id": WS1, "token_cache_dir": "/sys/kernel"},
     "cannot be used"),
    ("q-cert-missing", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "auth_method": "certificate"},
     "needs certificate_path"),
    ("q-cert-unreadable", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "auth_method": "certificate",
                                              "certificate_path": "{tmp}/missing.pem"}, "Cannot read certificate_path"),
    ("q-cloud", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "cloud": "mars"}, CHOICES),
    ("q-on-active", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "on_active_action": "maybe"}, CHOICES),
    ("q-unknown-option", "quarantine_file", {"machine_id": WS1, "sha1": SHA1, "machine": WS1}, "Unsupported parameters"),
    # --- defender_live_response -------------------------------------------------------------------------------
    ("l-no-commands", "live_response", {"machine_id": WS1, "commands": []}, "at least one command"),
    ("l-no-script-name", "live_response", {"machine_id": WS1, "commands": [{"type": "RunScript"}]},
     "needs script_name"),
    ("l-script-path", "live_response", {"machine_id": WS1, "commands": [{"type": "RunScript",
                                                                        "script_name": "sub/evil.ps1"}]}, "is a path"),
    ("l-script-backslash", "live_response", {"machine_id": WS1, "commands": [
        {"type": "RunScript", "script_name": "..\\evil.ps1"}]}, "is a path"),
    ("l-file-name-space", "live_response", {"machine_id": WS1, "commands": [{"type": "PutFile",
                                                                             "file_name": "a b.ps1"}]},
     "not a valid library file name"),
    ("l-order", "live_response", {"machine_id": WS1, "dest": "{tmp}/ev", "commands": [
        {"type": "GetFile", "path": "C:\\a.txt"}, {"type": "RunScript", "script_name": "x.ps1"}]}, "comes after"),
    ("l-extra-key", "live_response", {"machine_id": WS1, "dest": "{tmp}/ev", "commands": [
        {"type": "GetFile", "path": "C:\\a.txt", "file_name": "x"}]}, "does not take"),
    ("l-type", "live_response", {"machine_id": WS1, "commands": [{"type": "Exec", "path": "x"}]}, CHOICES),
    ("l-getfile-no-dest", "live_response", {"machine_id": WS1, "commands": [{"type": "GetFile", "path": "C:\\a"}]},
     "dest is required"),
    ("l-dest-is-file", "live_response", {"machine_id": WS1, "dest": "{tmp}/file", "commands": [
        {"type": "GetFile", "path": "C:\\a"}]}, "is not a directory"),
    ("l-getfile-control", "live_response", {"machine_id": WS1, "dest": "{tmp}/ev", "commands": [
        {"type": "GetFile", "path": "C:\\a\nb"}]}, "control characters"),
    ("l-max-sessions-0", "live_response", {"machine_id": WS1, "max_sessions": 0, "commands": [
        {"type": "RunScript", "script_name": "x.ps1"}]}, "max_sessions " + RANGE),
    ("l-max-sessions-51", "live_response", {"machine_id": WS1, "max_sessions": 51, "commands": [
        {"type": "RunScript", "script_name": "x.ps1"}]}, "max_sessions " + RANGE),
    ("l-action-id-shape", "live_response", {"action_id": "nope"}, NOT_GUID),
    ("l-action-id-and-commands", "live_response", {"action_id": GUID, "commands": [
        {"type": "RunScript", "script_name": "x.ps1"}]}, EXCLUSIVE),
    ("l-action-id-and-machine", "live_response", {"action_id": GUID, "machine_id": WS1}, EXCLUSIVE),
    ("l-nothing", "live_response", {"machine_id": WS1}, "one of the following is required"),
    ("l-poll-0", "live_response", {"machine_id": WS1, "poll_interval": 0, "commands": [
        {"type": "RunScript", "script_name": "x.ps1"}]}, "poll_interval " + RANGE),
    # --- defender_cancel_action --------------------------------------------------------------------------------
    ("c-id-shape", "cancel_action", {"action_id": "123"}, NOT_GUID),
    ("c-id-path", "cancel_action", {"action_id": "../machines"}, NOT_GUID),
    ("c-id-missing", "cancel_action", {}, "one of the following is required: action_id, action_ids"),
    ("c-ids-shape", "cancel_action", {"action_ids": [GUID, "../machines"]}, NOT_GUID),
    ("c-id-and-ids", "cancel_action", {"action_id": GUID, "action_ids": [GUID]}, EXCLUSIVE),
    ("c-wait-timeout-0", "cancel_action", {"action_id": GUID, "wait": True, "wait_timeout": 0}, "wait_timeout " + RANGE),
    ("c-poll-neg", "cancel_action", {"action_id": GUID, "poll_interval": -3}, "poll_interval " + RANGE),
    ("i-machines-and-id", "machine_action_info", {"machines": [WS1], "machine_id": WS1}, EXCLUSIVE),
    ("i-machines-empty-item", "machine_action_info", {"machines": [WS1, " "]}, "machines has an empty item"),
    # --- defender_library_file ---------------------------------------------------------------------------------
    ("b-src-missing", "library_file", {"src": "{tmp}/nope.ps1"}, "is not a readable file"),
    ("b-src-dir", "library_file", {"src": "{tmp}"}, "is not a readable file"),
    ("b-name-path", "library_file", {"src": "{tmp}/ok.ps1", "name": "sub/script.ps1"}, "is a path"),
    ("b-name-parent", "library_file", {"src": "{tmp}/ok.ps1", "name": "../script.ps1"}, "is a path"),
    ("b-name-chars", "library_file", {"src": "{tmp}/ok.ps1", "name": "bad name!.ps1"},
     "not a valid library file name"),
    ("b-name-dots", "library_file", {"state": "absent", "name": ".."}, "not a valid library file name"),
    ("b-src-name-chars", "library_file", {"src": "{tmp}/bad name.ps1"}, "the file name of src"),
    ("b-too-big", "library_file", {"src": "{tmp}/big.ps1"}, "at most 20 MB"),
    ("b-absent-nothing", "library_file", {"state": "absent"}, "state is absent but any of"),
    ("b-state", "library_file", {"src": "{tmp}/ok.ps1", "state": "gone"}, CHOICES),
    # --- defender_library_sync, defender_library_info -----------------------------------------------------------
    ("y-purge-no-scope", "library_sync", {"src_dir": "{tmp}", "purge": True}, "needs a scope"),
    ("y-not-folder", "library_sync", {"src_dir": "{tmp}/file"}, "is not a folder"),
    ("y-bad-name-in-folder", "library_sync", {"src_dir": "{tmp}"}, "not a valid library file name"),
    ("y-managed-path", "library_sync", {"src_dir": "{tmp}", "managed_names": ["../x.ps1"]}, "is a path"),
    ("y-two-scopes", "library_sync", {"src_dir": "{tmp}", "name_prefix": "a", "managed_names": ["a"]}, EXCLUSIVE),
    ("i-two-filters", "library_info", {"name": "a.ps1", "name_prefix": "a"}, EXCLUSIVE),
    # --- defender_machine_info ---------------------------------------------------------------------------------
    ("m-ip", "machine_info", {"ip": "999.1.1.1", "timestamp": "{recent}"}, "is not an IP address"),
    ("m-ip-cidr", "machine_info", {"ip": "10.0.0.0/8", "timestamp": "{recent}"}, "is not an IP address"),
    ("m-timestamp-words", "machine_info", {"ip": "10.1.2.3", "timestamp": "yesterday"}, "is not a UTC time"),
    ("m-timestamp-path", "machine_info", {"ip": "10.1.2.3", "timestamp": "{recent}/../../machineactions"},
     "is not a UTC time"),
    ("m-timestamp-old", "machine_info", {"ip": "10.1.2.3", "timestamp": "2020-01-01T00:00:00Z"},
     "within the last 30 days"),
    ("m-timestamp-date", "machine_info", {"ip": "10.1.2.3", "timestamp": "2026-02-30T00:00:00Z"}, "is not a UTC time"),
    ("m-ip-alone", "machine_info", {"ip": "10.1.2.3"}, "parameters are required together"),
    ("m-limit-0", "machine_info", {"limit": 0}, "limit " + RANGE),
    ("m-limit-neg", "machine_info", {"limit": -1}, "limit " + RANGE),
    ("m-two", "machine_info", {"machine_id": WS1, "machine_name": "ws"}, EXCLUSIVE),
    ("m-id-shape", "machine_info", {"machine_id": "ws-fin-001"}, NOT_ID),
    # --- defender_machine_action_info --------------------------------------------------------------------------
    ("a-id", "machine_action_info", {"action_id": "x"}, NOT_GUID),
    ("a-type", "machine_action_info", {"type": ["Bogus"]}, "must be one or more of"),
    ("a-status", "machine_action_info", {"status": ["Done"]}, "must be one or more of"),
    ("a-limit-0", "machine_action_info", {"limit": 0}, "limit " + RANGE),
    ("a-machine-id", "machine_action_info", {"machine_id": "short"}, NOT_ID),
    ("a-wait-no-id", "machine_action_info", {"wait": True}, "wait is True but all of the following are missing"),
    ("a-id-and-type", "machine_action_info", {"action_id": GUID, "type": ["Isolate"]}, EXCLUSIVE),
    # --- defender_isolation, defender_app_restriction, defender_av_scan ---------------------------------------
    ("i-type", "isolation", {"machine_id": WS1, "isolation_type": "Partial"}, CHOICES),
    ("i-state", "isolation", {"machine_id": WS1, "state": "on"}, CHOICES),
    ("i-id", "isolation", {"machine_id": "ws1"}, NOT_ID),
    ("i-wait-timeout", "isolation", {"machine_id": WS1, "wait_timeout": 10 ** 9}, "wait_timeout " + RANGE),
    ("r-state", "app_restriction", {"machine_id": WS1, "state": "locked"}, CHOICES),
    ("r-blank", "app_restriction", {"machines": [WS1, ""]}, "empty item"),
    ("s-missing", "av_scan", {"machine_id": WS1}, "missing required arguments: scan_type"),
    ("s-type", "av_scan", {"machine_id": WS1, "scan_type": "Deep"}, CHOICES),
    ("s-concurrency", "av_scan", {"machines": [WS1], "scan_type": "Quick", "concurrency": -2}, "concurrency " + RANGE),
    # --- defender_investigation_package, defender_offboard ----------------------------------------------------
    ("p-dest-file", "investigation_package", {"machine_id": WS1, "dest": "{tmp}/file"}, "not a folder"),
    ("p-lookback", "investigation_package", {"machine_id": WS1, "dedupe_lookback_days": 0},
     "dedupe_lookback_days " + RANGE),
    ("p-comment", "investigation_package", {"machine_id": WS1, "comment": ""}, "comment must not be empty"),
    ("o-confirm", "offboard", {"machine_id": WS1}, "confirm"),
    ("o-empty", "offboard", {"machines": [], "confirm": True}, "machines is empty"),
    ("o-comment", "offboard", {"machine_id": WS1, "confirm": True, "comment": ""}, "comment must not be empty"),
    # --- defender_machine_tags --------------------------------------------------------------------------------
    ("t-empty", "machine_tags", {"machine_id": WS1, "tags": []}, "at least one tag"),
    ("t-blank", "machine_tags", {"machine_id": WS1, "tags": ["ok", ""]}, "empty values"),
    ("t-long", "machine_tags", {"machine_id": WS1, "tags": ["x" * 300]}, "longer than"),
    ("t-state", "machine_tags", {"machine_id": WS1, "tags": ["a"], "state": "maybe"}, CHOICES),
    ("t-id", "machine_tags", {"machine_id": "nope", "tags": ["a"]}, NOT_ID),
    # --- defender_alert -----------------------------------------------------------------------------------------
    ("al-nothing", "alert", {"alert_id": "da1"}, "Nothing to set"),
    ("al-pair", "alert", {"alert_id": "da1", "classification": "FalsePositive", "determination": "Malware"},
     "FalsePositive / determination Malware is not valid: FalsePositive takes Clean, InsufficientData, Other"),
    ("al-both", "alert", {"alert_id": "da1", "alert_ids": ["da2"], "status": "New"}, EXCLUSIVE),
    ("al-empty", "alert", {"alert_ids": [], "status": "New"}, "alert_ids is empty"),
    ("al-blank", "alert", {"alert_ids": ["da1", " "], "status": "New"}, "empty item"),
    ("al-status", "alert", {"alert_id": "da1", "status": "Closed"}, CHOICES),
    ("al-deprecated", "alert", {"alert_id": "da1", "determination": "Apt"}, CHOICES),
    ("al-comment", "alert", {"alert_id": "da1", "comment": "  "}, "comment must not be empty"),
    # --- defender_investigation, defender_investigation_info ---------------------------------------------------
    ("air-id-path", "investigation", {"machine_id": "../machineactions"}, NOT_ID),
    ("air-both", "investigation", {"machine_id": WS1, "machines": [WS1]}, EXCLUSIVE),
    ("air-none", "investigation", {}, "one of the following is required"),
    ("air-machines-empty", "investigation", {"machines": []}, "machines is empty"),
    ("air-comment", "investigation", {"machine_id": WS1, "comment": " "}, "comment must not be empty"),
    ("air-wait-0", "investigation", {"machine_id": WS1, "wait_timeout": 0}, "wait_timeout " + RANGE),
    ("air-concurrency-0", "investigation", {"machines": [WS1], "concurrency": 0}, "concurrency " + RANGE),
    ("airi-id-path", "investigation_info", {"investigation_ids": ["../machines"]}, "is not an investigation id"),
    ("airi-empty", "investigation_info", {"investigation_ids": []}, "investigation_ids is empty"),
    ("airi-both", "investigation_info", {"investigation_ids": ["63001"], "machine_id": WS1}, EXCLUSIVE),
    ("airi-filter", "investigation_info", {"filter": "comment eq 'x'"}, "cannot filter investigations"),
    ("airi-state", "investigation_info", {"state": ["Done"]}, "no match for: Done"),
    ("airi-time", "investigation_info", {"started_after": "yesterday"}, "is not a UTC time"),
    ("airi-limit-0", "investigation_info", {"limit": 0}, "limit " + RANGE),
    ("airi-machine-id", "investigation_info", {"machine_id": "abc"}, NOT_ID),
    # --- the entity pivots: defender_file_info, _ip_info, _domain_info, _user_info, _alert_info ----------------------
    ("fi-md5", "file_info", {"files": ["d41d8cd98f00b204e9800998ecf8427e"]}, "not a SHA-1 (40 hexadecimal characters) or a SHA-256"),
    ("fi-empty", "file_info", {"files": []}, "files is empty"),
    ("fi-include-empty", "file_info", {"files": [SHA1], "include": []}, "include is empty"),
    ("fi-lookback", "file_info", {"files": [SHA1], "lookback_hours": 721}, "lookback_hours must be between 1 and 720"),
    ("ip-bad", "ip_info", {"ips": ["198.51.100.23", "300.1.2.3"]}, "'300.1.2.3' is not an IP address"),
    ("ip-cidr", "ip_info", {"ips": ["10.0.0.0/8"]}, "is not an IP address"),
    ("dom-url", "domain_info", {"domains": ["https://c2.badcdn.example/x"]}, "is a URL or a path: give the host name alone"),
    ("dom-slash", "domain_info", {"domains": ["c2.badcdn.example/../../api/machines"]}, "is a URL or a path"),
    ("dom-space", "domain_info", {"domains": ["c2 badcdn.example"]}, "is not a domain name"),
    ("us-upn", "user_info", {"users": ["alice@contoso.com"]}, "alice for alice@contoso.com"),
    ("us-domain", "user_info", {"users": ["CORP\\alice"]}, "give the account name alone"),
    ("us-both", "user_info", {"users": ["alice"], "machines": [WS1]}, EXCLUSIVE),
    ("us-machine", "user_info", {"machines": ["ws-fin-001"]}, NOT_ID),
    ("ai-filter", "alert_info", {"filter": "machineId eq 'x'"}, "filter names machineId"),
    ("ai-time", "alert_info", {"created_after": "yesterday"}, "is not a UTC time"),
    ("ai-id", "alert_info", {"alert_ids": ["da1/../x"]}, "is not an alert id"),
    ("ai-machine-filter", "alert_info", {"machines": [WS1], "filter": "status eq 'New'"}, "filter cannot be used with machines"),
    ("ai-machine", "alert_info", {"machines": ["nope"]}, NOT_ID),
    # --- defender_advanced_hunting ---------------------------------------------------------------------------
    ("ah-none", "advanced_hunting", {}, "one of the following is required"),
    ("ah-both", "advanced_hunting", {"query": "DeviceInfo", "hunt": "user_logons"}, EXCLUSIVE),
    ("ah-empty", "advanced_hunting", {"queries": []}, "queries is empty"),
    ("ah-blank", "advanced_hunting", {"query": "  "}, "A query is empty"),
    ("ah-hunt", "advanced_hunting", {"hunt": "all_devices"}, CHOICES),
    ("ah-params", "advanced_hunting", {"query": "DeviceInfo", "hunt_parameters": {"ip": "10.1.2.3"}}, "required by"),
    ("ah-sha1", "advanced_hunting", {"hunt": "devices_with_file", "hunt_parameters": {"sha1": "xyz"}},
     "is not valid: expected a SHA-1, 40 hexadecimal characters"),
    ("ah-inject", "advanced_hunting", {"hunt": "user_logons", "hunt_parameters": {"user": "x' or 1==1 //"}},
     "is not valid: expected an account"),
    ("ah-lookback", "advanced_hunting", {"hunt": "devices_contacted_ip",
                                         "hunt_parameters": {"ip": "10.1.2.3", "lookback_days": 31}}, "from 1 to 30"),
    ("ah-format", "advanced_hunting", {"query": "DeviceInfo", "dest": "/tmp/x", "format": "xml"}, CHOICES),
    # --- defender_indicator -----------------------------------------------------------------------------------
    ("n-sha1", "indicator", {"value": "xyz", "type": "FileSha1", "title": "t", "action": "Block"}, "is not a"),
    ("n-type", "indicator", {"value": "10.1.2.3", "type": "Ip", "title": "t"}, CHOICES),
    ("n-both", "indicator", {"value": "10.1.2.3", "indicators": [{"value": "10.1.2.4"}]}, EXCLUSIVE),
    ("n-cidr", "indicator", {"value": "10.0.0.0/8", "type": "IpAddress", "title": "t", "action": "Block"},
     "CIDR ranges are not supported"),
    ("n-audit", "indicator", {"value": "evil.example.com", "type": "DomainName", "title": "t", "description": "d", "action": "Audit"},
     "generate_alert"),
    ("n-duplicate", "indicator", {"indicators": [{"value": "10.1.2.3"}, {"value": "10.1.2.3"}], "type": "IpAddress",
                                  "title": "t", "description": "d", "action": "Block"}, "more than once"),
    ("n-expiration-date-only", "indicator", {"value": "evil.example.com", "type": "DomainName", "title": "t",
                                             "description": "d", "action": "Block", "expiration": "2027-12-31"},
     "not an ISO 8601 time in UTC"),
    ("n-expiration-june-31", "indicator", {"indicators": [{"value": "evil.example.com",
                                                           "expiration": "2027-06-31T00:00:00Z"}],
                                           "type": "DomainName", "title": "t", "description": "d", "action": "Block"},
     "not an ISO 8601 time in UTC"),
    ("n-purge-unscoped", "indicator", {"indicators": [], "purge": True}, "purge_scope: title_prefix"),
    ("n-purge-empty-prefix", "indicator", {"indicators": [], "purge": True, "purge_scope": {"title_prefix": " "}},
     "title_prefix is empty"),
    ("n-purge-one", "indicator", {"value": "evil.example.com", "state": "absent", "purge": True,
                                  "purge_scope": {"title_prefix": "IaC"}}, "needs the whole list"),
    ("n-scope-no-purge", "indicator", {"indicators": [], "purge_scope": {"title_prefix": "IaC"}}, "purge is not"),
    # --- defender_indicator_info --------------------------------------------------------------------------------
    ("ni-filter", "indicator_info", {"filter": "lastUpdateTime gt 2026-01-01T00:00:00Z"}, "cannot filter indicators"),
    ("ni-type", "indicator_info", {"type": ["Ip"]}, "must be one or more of"),
    ("ni-limit", "indicator_info", {"limit": 0}, "limit " + RANGE),
    ("ni-creators", "indicator_info", {"created_by": "x", "created_by_this_app": True}, EXCLUSIVE),
    # --- defender_machine_tags: purge ---------------------------------------------------------------------------
    ("t-purge-unscoped", "machine_tags", {"machines": [WS1], "tags": ["iac-a"], "purge": True}, "tag_prefix"),
    ("t-purge-absent", "machine_tags", {"machines": [WS1], "tags": ["iac-a"], "purge": True, "tag_prefix": "iac-",
                                        "state": "absent"}, "needs state: present"),
    ("t-scope-no-purge", "machine_tags", {"machine_id": WS1, "tags": ["iac-a"], "managed_tags": ["iac-b"]},
     "only scope a purge"),
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    seed = load_seed("default")
    seed["settings"] = {"clock_speed": 0}
    emu = Emulator(seed, state_dir=str(tmp_path_factory.mktemp("emulator"))).start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def control(emulator):
    import requests
    info = emulator.info()

    def call(method, path):
        response = requests.request(method, info["control_url"] + path, verify=info["ca_path"],
                                    headers={"X-Emulator-Key": info["control_key"]}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()
    return call


def prepare(tmp_path):
    """The files some cases point at: a script, a file where a folder should be, a script over 20 MB."""
    (tmp_path / "ok.ps1").write_text("Write-Output ok")
    (tmp_path / "bad name.ps1").write_text("Write-Output ok")
    (tmp_path / "file").write_text("not a folder")
    with open(str(tmp_path / "big.ps1"), "wb") as handle:
        handle.truncate(21 * 1024 * 1024)


def fill(value, tmp, host):
    import datetime
    recent = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str):
        return value.replace("{tmp}", tmp).replace("{host}", host).replace("{recent}", recent)
    if isinstance(value, list):
        return [fill(v, tmp, host) for v in value]
    if isinstance(value, dict):
        return dict((k, fill(v, tmp, host)) for k, v in value.items())
    return value


def run_module(name, args, capsys):
    # ansible-core keeps the warnings of a process in one global and drops a repeat: start every run with none, so
    # a warning an earlier test (in the same worker) gave is still seen.
    from ansible.module_utils.common import warnings as ansible_warnings
    ansible_warnings._global_warnings.clear()
    module = importlib.import_module("ansible_collections.secops.defender.plugins.modules.defender_" + name)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_the_suite_is_large_and_covers_every_module():
    modules = set(case[1] for case in CASES)
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
    shipped = set(f[len("defender_"):-3] for f in os.listdir(folder) if f.startswith("defender_"))
    assert len(CASES) >= 80 and modules == shipped
    assert len(set(case[0] for case in CASES)) == len(CASES)


@pytest.mark.parametrize("case_id, name, options, expected", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_refused_clearly_before_anything_is_sent(
        case_id, name, options, expected, emulator, control, tmp_path, capsys, monkeypatch):
    for variable in [v for v in os.environ if v.startswith(("DEFENDER_", "AZURE_"))]:
        monkeypatch.delenv(variable)
    info = emulator.info()
    prepare(tmp_path)
    args = {"tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
            "api_url": info["api_url"], "authority_url": info["authority_url"], "ca_path": info["ca_path"],
            "token_cache_dir": str(tmp_path / "cache")}
    args.update(fill(options, str(tmp_path), info["api_url"].split("://", 1)[1]))
    control("DELETE", "/log")
    result = run_module(name, args, capsys)
    assert result.get("failed") is True, result
    assert fill(expected, str(tmp_path), "") in result["msg"], result["msg"]
    assert "Traceback" not in json.dumps(result) and "unexpected" not in result["msg"]
    assert control("GET", "/log")["value"] == [], "%s sent requests for bad input" % case_id
    assert RESPONDER[1] not in json.dumps(result)


def test_without_local_state_a_task_runs_with_a_warning(emulator, control, tmp_path, capsys, monkeypatch):
    """token_cache and rate_budget off: an unusable state folder is no reason to stop; the locks are off, and the
    task says so."""
    for variable in [v for v in os.environ if v.startswith(("DEFENDER_", "AZURE_"))]:
        monkeypatch.delenv(variable)
    info = emulator.info()
    args = {"tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
            "api_url": info["api_url"], "authority_url": info["authority_url"], "ca_path": info["ca_path"],
            "token_cache_dir": "/sys/kernel", "token_cache": False, "rate_budget": False,
            "machine_id": WS1, "sha1": SHA1, "wait": False}
    control("DELETE", "/log")
    # What the module warns, as it warns it: once the controller's own plugins have been loaded in this process (the
    # filter tests do), ansible-core may route module warnings elsewhere than the result.
    from ansible_collections.secops.defender.plugins.module_utils._module import DefenderModule
    warned = []
    original = DefenderModule.warn
    monkeypatch.setattr(DefenderModule, "warn", lambda self, text: (warned.append(text), original(self, text))[1])
    result = run_module("quarantine_file", args, capsys)
    assert not result.get("failed"), result
    assert any("without submit locks" in w for w in warned + list(result.get("warnings") or [])), result
    assert [e["path"] for e in control("GET", "/log")["value"] if e["method"] == "POST" and "/api/" in e["path"]]
