"""A live response against the emulator by hand, with MSAL and requests only: the way any client would do it.

    mde-emulator --seed default --info-file /tmp/emu.json &
    python -m mde_emulator.examples.live_response_by_hand /tmp/emu.json     (with msal and requests installed)
"""

import gzip
import hashlib
import json
import sys
import time

import msal
import requests


class VerifyingHttpClient:
    """MSAL's http_client, with the emulator's CA on every request (REQUESTS_CA_BUNDLE would win otherwise)."""

    def __init__(self, ca_path):
        self.session = requests.Session()
        self.ca_path = ca_path

    def get(self, url, params=None, headers=None, **kwargs):
        return self.session.get(url, params=params, headers=headers, verify=self.ca_path, timeout=10)

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self.session.post(url, params=params, data=data, headers=headers, verify=self.ca_path, timeout=10)

    def close(self):
        self.session.close()


def main(info_path):
    with open(info_path) as handle:
        info = json.load(handle)
    app = next(a for a in info["apps"] if "Machine.LiveResponse" in a["roles"] and a.get("client_secret"))
    msal_app = msal.ConfidentialClientApplication(
        app["client_id"], client_credential=app["client_secret"],
        authority="%s/%s" % (info["authority_url"], info["tenant_id"]), instance_discovery=False,
        http_client=VerifyingHttpClient(info["ca_path"]))
    token = msal_app.acquire_token_for_client(scopes=[info["scope"]])["access_token"]
    api, ca = info["api_url"], info["ca_path"]
    headers = {"Authorization": "Bearer " + token}

    machine = requests.get(api + "/api/machines/ws-fin-001.corp.example.com", headers=headers, verify=ca).json()
    body = {"Comment": "by hand", "Commands": [
        {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]},
        {"type": "GetFile", "params": [{"key": "Path", "value": "C:\\Windows\\Temp\\triage.txt"}]}]}
    action = requests.post(api + "/api/machines/%s/runliveresponse" % machine["id"], json=body, headers=headers,
                           verify=ca).json()
    while action["status"] not in ("Succeeded", "Failed", "TimeOut", "Cancelled"):
        time.sleep(0.5)
        action = requests.get(api + "/api/machineactions/" + action["id"], headers=headers, verify=ca).json()
    print("action", action["id"], action["status"])
    for index in range(len(action["commands"])):
        link = requests.get(api + "/api/machineactions/%s/GetLiveResponseResultDownloadLink(index=%d)"
                            % (action["id"], index), headers=headers, verify=ca).json()["value"]
        data = requests.get(link, verify=ca).content  # no Authorization header: the link is its own credential
        if index == 0:
            print("script result", json.loads(data))
        else:
            content = gzip.decompress(data)
            print("file", len(content), "bytes, sha256", hashlib.sha256(content).hexdigest())
    return 0 if action["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
