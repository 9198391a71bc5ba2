#!/usr/bin/env bash
# Several tenants in one inventory and one play, as a managed security provider runs them: two emulated tenants
# (two emulators, each with its own CA, app and devices, whose device names clash), one *.defender.yml with
# `tenants:`, and a play that isolates each tenant's finance devices with one fleet task per tenant. Each tenant's
# log and state must show only its own sign-in and its own devices.
set -eu
config=../../integration_config.yml
. ../setup_emulator/files/runme_lib.sh
emulator_only "$config" "it starts two emulated tenants of its own"
out="${OUTPUT_DIR:-$(mktemp -d)}/tenants"
rm -rf "$out" && mkdir -p "$out"
python tenants_test.py "$out"
