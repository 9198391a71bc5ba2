# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: API base, sign-in host and token scope for each cloud."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from urllib.parse import urlsplit

from ansible_collections.secops.defender.plugins.module_utils._errors import DefenderInputError

# Where result links may point (download_hosts). Live response results are Azure blob SAS links, and the
# investigation package is a "safedownload" link on a securitycenter.windows host (userrequests-us...):
# https://learn.microsoft.com/defender-endpoint/api/get-live-response-result
# https://learn.microsoft.com/defender-endpoint/api/get-package-sas-uri
# The storage hosts of each cloud are in the service URL lists of "Configure device proxy and Internet
# connectivity settings" (https://learn.microsoft.com/defender-endpoint/configure-environment) and, for the US
# Government clouds, https://learn.microsoft.com/defender-endpoint/gov (*.blob.core.usgovcloudapi.net,
# *.securitycenter.windows.us).
_COMMERCIAL_STORAGE = ["*.blob.core.windows.net", "*.securitycenter.windows.com"]
_GOV_STORAGE = ["*.blob.core.usgovcloudapi.net", "*.securitycenter.windows.us"]

# The token scope stays on the legacy audience even for api.security.microsoft.com (Learn:
# https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-create-app-webapp).
CLOUDS = {
    "commercial": {
        "api_url": "https://api.security.microsoft.com",
        "authority_url": "https://login.microsoftonline.com",
        "scope": "https://api.securitycenter.microsoft.com/.default",
        "download_hosts": _COMMERCIAL_STORAGE,
    },
    "gcc": {
        "api_url": "https://api-gcc.securitycenter.microsoft.us",
        "authority_url": "https://login.microsoftonline.com",
        "scope": "https://api-gcc.securitycenter.microsoft.us/.default",
        # GCC runs on commercial Azure for some services and on the US Government clouds for others.
        "download_hosts": _COMMERCIAL_STORAGE + _GOV_STORAGE,
    },
    "gcc_high": {
        "api_url": "https://api-gov.securitycenter.microsoft.us",
        "authority_url": "https://login.microsoftonline.us",
        "scope": "https://api-gov.securitycenter.microsoft.us/.default",
        "download_hosts": _GOV_STORAGE,
    },
    "dod": {
        "api_url": "https://api-gov.securitycenter.microsoft.us",
        "authority_url": "https://login.microsoftonline.us",
        "scope": "https://api-gov.securitycenter.microsoft.us/.default",
        "download_hosts": _GOV_STORAGE,
    },
}


def endpoints(cloud, api_url=None, authority_url=None, scope=None, download_hosts=None):
    """Resolve the endpoints: explicit values win over the cloud's defaults."""
    base = CLOUDS[cloud]
    return {
        "api_url": (api_url or base["api_url"]).rstrip("/"),
        "authority_url": (authority_url or base["authority_url"]).rstrip("/"),
        "scope": scope or base["scope"],
        "download_hosts": host_patterns(download_hosts) or list(base["download_hosts"]),
    }


_HOST_PATTERN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^[0-9a-f:]+$")


def host_patterns(value):
    """download_hosts as a checked list of lower-case host names or *.suffix patterns ([] when not set). A string
    is split on commas and spaces, as DEFENDER_DOWNLOAD_HOSTS gives it."""
    if not value:
        return []
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    patterns = []
    for item in items:
        pattern = str(item).strip().lower().rstrip(".")
        if not pattern:
            continue
        if not _HOST_PATTERN.match(pattern) or pattern in ("*", "*.") or pattern.count("*") > 1:
            raise DefenderInputError(
                "download_hosts: %r is not a host name or a *.suffix pattern (for example "
                "*.blob.core.windows.net or localhost). A URL, a port or a bare * is not accepted." % item)
        patterns.append(pattern)
    return patterns


# Managed identity endpoints are plain http by design (IMDS, App Service): allowed, because they never leave the host.
_LOCAL_IDENTITY_HOSTS = ("169.254.169.254", "169.254.169.253", "localhost", "127.0.0.1", "::1")


def insecure_urls(urls, environ):
    """The URLs that would carry a secret or a token in clear text: API, authority and identity endpoints that are
    not https. `urls` is what endpoints() returned; `environ` gives the managed identity endpoints."""
    found = ["%s=%s" % (name, urls[name]) for name in ("api_url", "authority_url")
             if not urls[name].lower().startswith("https://")]
    for name in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        value = environ.get(name)
        if value and not value.lower().startswith("https://"):
            if (urlsplit(value).hostname or "").lower() not in _LOCAL_IDENTITY_HOSTS:
                found.append("%s=%s" % (name, value.split("?", 1)[0]))
    return found


# What AWX's and AAP's Azure Resource Manager credential injects (AZURE_CLOUD_ENVIRONMENT), as a cloud. GCC High
# and DoD share endpoints, so AzureUSGovernment is gcc_high; a GCC tenant signs in commercially and sets cloud=gcc.
AZURE_ENVIRONMENTS = {
    "azurecloud": "commercial",
    "azurepubliccloud": "commercial",
    "azureusgovernment": "gcc_high",
    "azureusgovernmentcloud": "gcc_high",
}


def cloud_from_azure_environment(value):
    """The cloud for an AZURE_CLOUD_ENVIRONMENT value, or None when it is not set; unknown values are an error."""
    if not value:
        return None
    cloud = AZURE_ENVIRONMENTS.get(value.strip().lower())
    if cloud is None:
        raise DefenderInputError(
            "AZURE_CLOUD_ENVIRONMENT=%s has no Defender for Endpoint API this collection knows (AzureCloud and "
            "AzureUSGovernment do). Set cloud, or api_url, authority_url and scope." % value)
    return cloud
