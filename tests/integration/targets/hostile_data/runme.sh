#!/usr/bin/env bash
# Hostile data: devices, tags, alerts, evidence, indicators, library entries and live response output whose every
# text field carries Jinja payloads, through the inventory, the lookup, every role, both playbooks, the event source
# and the shipped rulebook. Fails if any payload ran (a marker file, or 7*191 rendered as 1337), if a file landed
# outside dest, or if the remediation did not happen. It runs an emulator of its own, seeded with the hostile data.
set -eu
python hostile_test.py ../../integration_config.yml "${OUTPUT_DIR:-$(mktemp -d)}/hostile"
