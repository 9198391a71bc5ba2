"""A small client for the emulator: real HTTPS, its CA, a token from its sign-in, and its control API.

Used by the emulator's own tests and by the benchmarks; handy for rehearsal scripts too.
"""


import requests

RESPONDER = ("11111111-1111-4111-8111-111111111111", "emulator-secret-responder")
READER = ("22222222-2222-4222-8222-222222222222", "emulator-secret-reader")
WS1 = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
LINUX = "3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
OFFLINE = "4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d"
SHA1 = "8a5f6b6e3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f"


class Client:
    """A thin test client: real HTTPS, verify against the emulator's CA, token from the token endpoint."""

    def __init__(self, emu, app=RESPONDER):
        self.emu = emu
        self.info = emu.info()
        self.verify = self.info["ca_path"]
        self.app = app
        self._token = None

    def token(self, scope=None, app=None):
        app = app or self.app
        response = requests.post("%s/%s/oauth2/v2.0/token" % (self.info["authority_url"], self.info["tenant_id"]),
                                 data={"grant_type": "client_credentials", "client_id": app[0],
                                       "client_secret": app[1], "scope": scope or self.info["scope"]},
                                 verify=self.verify, timeout=10)
        return response

    def headers(self):
        if self._token is None:
            self._token = self.token().json()["access_token"]
        return {"Authorization": "Bearer " + self._token}

    def call(self, method, path, **kwargs):
        explicit = kwargs.pop("headers", None)
        response = requests.request(method, self.info["api_url"] + path, headers=explicit or self.headers(),
                                    verify=self.verify, timeout=10, **kwargs)
        if response.status_code == 401 and not explicit:  # tokens expire on the emulated clock, as they should
            self._token = None
            response = requests.request(method, self.info["api_url"] + path, headers=self.headers(),
                                        verify=self.verify, timeout=10, **kwargs)
        return response

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, json=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def control(self, method, path, body=None):
        response = requests.request(method, self.info["control_url"] + path, json=body, verify=self.verify,
                                    headers={"X-Emulator-Key": self.info["control_key"]}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def live_response(self, machine=WS1, commands=None, comment="test"):
        commands = commands or [{"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect_triage.ps1"}]}]
        return self.post("/api/machines/%s/runliveresponse" % machine, {"Comment": comment, "Commands": commands})
