"""Turn the emulator's start-up JSON into tests/integration/integration_config.yml for the targets."""

import json
import os
import sys
from urllib.parse import urlsplit

RESPONDER = "11111111-1111-4111-8111-111111111111"
READER = "22222222-2222-4222-8222-222222222222"


def main(info_path, cache_dir):
    with open(info_path) as handle:
        info = json.load(handle)
    apps = dict((a["client_id"], a) for a in info["apps"])

    # An emulator that counts every API in one pool (the drift variant rate_pool_single) is met with the option
    # made for such a tenant.
    pool = json.loads(os.environ.get("MDE_EMULATOR_SETTINGS") or "{}").get("rate_pool")
    extra = {"rate_pool": pool} if pool else {}

    def auth(client_id):
        settings = {"tenant_id": info["tenant_id"], "client_id": client_id,
                    "client_secret": apps[client_id]["client_secret"], "api_url": info["api_url"],
                    "authority_url": info["authority_url"], "ca_path": info["ca_path"], "token_cache_dir": cache_dir,
                    # result links point at the emulator's storage host (127.0.0.1), not Microsoft's
                    "download_hosts": [urlsplit(info["blob_url"]).hostname]}
        return dict(settings, **extra)

    config = {
        "defender_auth": auth(RESPONDER),
        "defender_reader_auth": auth(READER),
        "defender_emulator": {"control_url": info["control_url"], "control_key": info["control_key"],
                              "ca_path": info["ca_path"]},
        "defender_machine_id": "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
        "defender_machine_name": "ws-fin-001.corp.example.com",
        "defender_second_machine_id": "2b2f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d",
        "defender_linux_machine_id": "3c3f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d",
        "defender_offline_machine_id": "4d4f8c1f0d6a4c3d9e8f7a6b5c4d3e2f1a0b9c8d",
        "defender_getfile_path": "C:\\Windows\\Temp\\triage.txt",
    }
    # JSON is YAML, and needs no PyYAML here.
    print(json.dumps(config, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
