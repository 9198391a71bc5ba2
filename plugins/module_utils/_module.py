# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the module base class. It runs one task: the shared connection options
(_connection.py) beside the module's own, a client built before anything is sent, and the one place where errors
become fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.secops.defender.plugins.module_utils._connection import (
    AUTH_ARGSPEC,
    build_client,
    state_dir,
    state_dir_error,
    submit_locks,
)
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderError
from ansible_collections.secops.defender.plugins.module_utils._fleet import FleetRequest, run_action
from ansible_collections.secops.defender.plugins.module_utils._options import check_ranges

try:
    import requests
    HAS_REQUESTS = requests.__version__ is not None
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Only look for msal here: importing it costs time, and a cached token doesn't need it.
HAS_MSAL = importlib.util.find_spec("msal") is not None


class DefenderModule(AnsibleModule):
    """AnsibleModule with the shared options, a lazily built client, and DefenderError -> fail_json."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec)
        super(DefenderModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        if not HAS_MSAL and not self.params.get("access_token"):
            self.fail_json(msg=missing_required_lib("msal"))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = build_client(self.params)
        return self._client

    def action_result(self, spec, options, **settings):
        """Run one machine action (an ActionSpec and its checked options) on the task's device or devices and
        return the module result."""
        return run_action(self.client, spec, options, self.fleet_request(**settings))

    def fleet_request(self, **settings):
        """The engine's FleetRequest from the task's options (run() has range-checked them)."""
        locks = submit_locks(self.params, self.client.api_url, self.warn)
        return FleetRequest.from_params(self.params, self.check_mode, locks=locks, **settings)

    def run(self, service):
        """Call `service(module)`, which returns the result dict; turn every DefenderError into fail_json.

        The shared numbers are range-checked and the client is built (URLs, credential) first: nothing is sent
        before the task's options have passed."""
        try:
            check_ranges(self.params)
            if self._client is None:
                self._client = build_client(self.params)
            result = service(self)
        except DefenderError as exc:
            self._warn_from_client()
            extra = dict(self._progress(), error=exc.to_dict())
            if isinstance(exc, DefenderActionError):
                extra.update(exc.result)
                if exc.result.get("error"):
                    extra["error"] = exc.result["error"]
            self.fail_json(msg=str(exc), **extra)
        except Exception as exc:  # a bug: fail cleanly, with the trace for -vvv, and say it is one
            self._warn_from_client()
            broken = self._state_dir_failure(exc)
            if broken is not None:  # the state folder broke mid-task (full, made read-only): not a bug
                self.fail_json(msg=str(broken), error=broken.to_dict())
            self.fail_json(msg="secops.defender hit an unexpected %s: %s. This is a bug; please report it with the "
                               "output of -vvv." % (type(exc).__name__, str(exc)[:300]),
                           exception=traceback.format_exc())
        self._warn_from_client()
        self.exit_json(**dict(self._progress(), **result))

    def _progress(self):
        """wait_progress: what a long wait said once a minute (shown at -v with the rest of the result)."""
        notes = getattr(self._client, "progress", None)
        return {"wait_progress": list(notes)} if notes else {}

    def _state_dir_failure(self, exc):
        """For an OSError on a file in the local state folder, the error that names the folder; else None."""
        filename = getattr(exc, "filename", None) if isinstance(exc, (IOError, OSError)) else None
        folder = state_dir(self.params)
        if not filename or not os.path.realpath(str(filename)).startswith(os.path.realpath(folder)):
            return None
        return state_dir_error(folder, exc.strerror or str(exc))

    def _warn_from_client(self):
        if self._client is not None:
            for warning in self._client.warnings:
                self.warn(warning)
