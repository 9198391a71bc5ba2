"""make demo-eda helper: raise an alert on the emulator and run the event source once (or print what happened)."""

import asyncio
import importlib.util
import json
import os
import shlex
import sys
from urllib.parse import urlsplit

import requests

EXTENSION = ("ansible_collections", "secops", "defender", "extensions", "eda", "plugins", "event_source", "alerts.py")
SHA1 = "e3b9c1a4f5d6e7f8091a2b3c4d5e6f7a8b9c0d1e"
RESPONDER = ("11111111-1111-4111-8111-111111111111", "emulator-secret-responder")


def control(info, method, path, body=None):
    response = requests.request(method, info["control_url"] + path, json=body, verify=info["ca_path"], timeout=10,
                                headers={"X-Emulator-Key": info["control_key"]})
    response.raise_for_status()
    return response.json()


def main(out, mode="event"):
    with open(os.path.join(out, "emulator", "info.json")) as handle:
        info = json.load(handle)
    auth = {"tenant_id": info["tenant_id"], "client_id": RESPONDER[0], "client_secret": RESPONDER[1],
            "api_url": info["api_url"], "authority_url": info["authority_url"], "ca_path": info["ca_path"],
            "token_cache_dir": os.path.join(out, "token-cache")}
    if mode == "summary":
        state = control(info, "GET", "/state")
        print("== What Defender (the emulator) now holds")
        for action in state["actions"]:
            print("   %-24s %-10s %s" % (action["type"], action["status"], action["computerDnsName"]))
        for indicator in state["indicators"]:
            print("   indicator %s %s: %s"
                  % (indicator["indicatorType"], indicator["indicatorValue"], indicator["action"]))
        return
    control(info, "POST", "/settings", {"clock_speed": 30})
    alert = control(info, "POST", "/alerts", {
        "title": "Malicious invoice attachment executed", "severity": "High", "category": "Malware",
        "machineId": "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
        "evidence": [{"entityType": "File", "sha1": SHA1, "fileName": "invoice.pdf.exe",
                      "filePath": "C:\\Users\\alice\\Downloads"}]})
    print("== Alert raised in Defender: %s (%s) on %s" % (alert["title"], alert["severity"], alert["computerDnsName"]))
    # Load it from the installed collection, as ansible-rulebook does.
    spec = importlib.util.spec_from_file_location("secops_defender_alerts", os.path.join(out, "collections", *EXTENSION))
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    queue = asyncio.Queue()
    asyncio.run(source.main(queue, dict(auth, once=True, severities=["High"], lookback="1d",
                                        checkpoint=os.path.join(out, "checkpoint.json"))))
    event = queue.get_nowait()
    print("== secops.defender.alerts delivered it: machine %s, SHA-1s %s" % (event["machine_id"], event["sha1s"]))
    with open(os.path.join(out, "event.json"), "w") as handle:
        json.dump({"ansible_eda": {"event": event}}, handle)
    # The connection as AWX injects a credential: environment variables, never module arguments.
    with open(os.path.join(out, "connection.env"), "w") as handle:
        for key, value in sorted(auth.items()):
            handle.write("export DEFENDER_%s=%s\n" % (key.upper(), shlex.quote(value)))
        handle.write("export DEFENDER_DOWNLOAD_HOSTS=%s\n" % shlex.quote(urlsplit(info["blob_url"]).hostname))


if __name__ == "__main__":
    main(*sys.argv[1:])
