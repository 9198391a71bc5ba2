"""Fail if the -vvvv output holds a secret: client secrets, any cached access token, a SAS query, a bearer header."""

import json
import os
import re
import sys


def main(config_path, output_path):
    with open(config_path) as handle:
        config = json.load(handle)  # the emulator pipeline writes it as JSON, which is YAML too
    with open(output_path) as handle:
        output = handle.read()
    secrets = {"not-the-secret-but-still-secret"}
    for key in ("defender_auth", "defender_reader_auth"):
        secrets.add(config[key]["client_secret"])
    cache = os.path.join(config["defender_auth"]["token_cache_dir"], "tokens.json")
    with open(cache) as handle:
        tokens = [entry["access_token"] for entry in json.load(handle).values()]
    assert tokens, "the run should have cached a token"
    problems = [("a client secret", s) for s in secrets if s in output]
    problems += [("an access token", t[:12] + "...") for t in tokens if t in output]
    for label, pattern in (("a SAS signature", r"[?&]sig="), ("a bearer header", r"Bearer\s+[A-Za-z0-9._-]{20,}"),
                           ("a JWT", r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}")):
        if re.search(pattern, output):
            problems.append((label, pattern))
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output, "expected no_log masking to show in -vvvv output"
    if problems:
        for label, what in problems:
            print("LEAK: %s (%s) in the -vvvv output" % (label, what))
        sys.exit(1)
    print("no secrets in %d bytes of -vvvv output" % len(output))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
