# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the module base class, the shared auth/connection options and their
environment fallbacks, and the one place where errors become fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.secops.defender.plugins.module_utils._auth import (
    AUTH_METHODS,
    MsalHttpClient,
    TokenProvider,
    make_cache,
    select_credential,
)
from ansible_collections.secops.defender.plugins.module_utils._cloud import CLOUDS, endpoints
from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderActionError, DefenderError

try:
    import requests
    HAS_REQUESTS = requests.__version__ is not None
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Only look for msal here: importing it costs time, and a cached token doesn't need it.
HAS_MSAL = importlib.util.find_spec("msal") is not None


def _env(*names):
    return (env_fallback, list(names))


# Task args first, then DEFENDER_*, then azure-identity's names, then what AWX's Azure credential injects.
AUTH_ARGSPEC = dict(
    tenant_id=dict(type="str", fallback=_env("DEFENDER_TENANT_ID", "AZURE_TENANT_ID", "AZURE_TENANT")),
    client_id=dict(type="str", fallback=_env("DEFENDER_CLIENT_ID", "AZURE_CLIENT_ID")),
    client_secret=dict(type="str", no_log=True,
                       fallback=_env("DEFENDER_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "AZURE_SECRET")),
    certificate_path=dict(type="path", fallback=_env("DEFENDER_CLIENT_CERTIFICATE_PATH",
                                                     "AZURE_CLIENT_CERTIFICATE_PATH")),
    certificate_password=dict(type="str", no_log=True,
                              fallback=_env("DEFENDER_CLIENT_CERTIFICATE_PASSWORD",
                                            "AZURE_CLIENT_CERTIFICATE_PASSWORD")),
    access_token=dict(type="str", no_log=True, fallback=_env("DEFENDER_ACCESS_TOKEN")),
    auth_method=dict(type="str", choices=list(AUTH_METHODS), fallback=_env("DEFENDER_AUTH_METHOD")),
    managed_identity_client_id=dict(type="str", fallback=_env("DEFENDER_MANAGED_IDENTITY_CLIENT_ID")),
    cloud=dict(type="str", choices=sorted(CLOUDS), fallback=_env("DEFENDER_CLOUD")),
    api_url=dict(type="str", fallback=_env("DEFENDER_API_URL")),
    authority_url=dict(type="str", fallback=_env("DEFENDER_AUTHORITY_URL")),
    scope=dict(type="str", fallback=_env("DEFENDER_SCOPE")),
    validate_certs=dict(type="bool", fallback=_env("DEFENDER_VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("DEFENDER_CA_PATH")),
    timeout=dict(type="int", fallback=_env("DEFENDER_TIMEOUT")),
    max_retry_wait=dict(type="int", fallback=_env("DEFENDER_MAX_RETRY_WAIT")),
    token_cache=dict(type="bool", fallback=_env("DEFENDER_TOKEN_CACHE")),
    token_cache_dir=dict(type="path", fallback=_env("DEFENDER_TOKEN_CACHE_DIR")),
)

# Defaults live here rather than in the argspec, so that an env fallback is consulted before a default applies.
AUTH_DEFAULTS = dict(auth_method="auto", cloud="commercial", validate_certs=True, timeout=30, max_retry_wait=300,
                     token_cache=True)

WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    poll_interval=dict(type="int", default=10),
)


def auth_options(params):
    options = dict((k, params.get(k)) for k in AUTH_ARGSPEC)
    for key, value in AUTH_DEFAULTS.items():
        if options.get(key) is None:
            options[key] = value
    return options


def build_client(params):
    """A DefenderClient for these (already validated) module parameters."""
    import requests
    from ansible_collections.secops.defender.plugins.module_utils._client import DefenderClient

    options = auth_options(params)
    urls = endpoints(options["cloud"], options["api_url"], options["authority_url"], options["scope"])
    verify = (options["ca_path"] or True) if options["validate_certs"] else False
    session = requests.Session()
    credential = select_credential(options, urls)
    tokens = TokenProvider(credential, MsalHttpClient(session, verify, options["timeout"]),
                           make_cache(options["token_cache"], options["token_cache_dir"]))
    return DefenderClient(urls["api_url"], tokens, verify=verify, timeout=options["timeout"],
                          max_retry_wait=options["max_retry_wait"], session=session)


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

    def run(self, service):
        """Call `service(module)`, which returns the result dict; turn every DefenderError into fail_json."""
        try:
            result = service(self)
        except DefenderError as exc:
            self._warn_from_client()
            extra = {"error": exc.to_dict()}
            if isinstance(exc, DefenderActionError):
                extra.update(exc.result)
            self.fail_json(msg=str(exc), **extra)
        self._warn_from_client()
        self.exit_json(**result)

    def _warn_from_client(self):
        if self._client is not None:
            for warning in self._client.warnings:
                self.warn(warning)
