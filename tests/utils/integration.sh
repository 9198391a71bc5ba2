#!/usr/bin/env bash
# Start the emulator, hand its URL, CA and credentials to the targets through integration_config.yml, run
# ansible-test integration, and stop the emulator whatever happens.
# To run the same targets against a real tenant, write tests/integration/integration_config.yml yourself
# (see tests/integration/integration_config.yml.template) and set DEFENDER_REAL_TENANT=1.
set -euo pipefail
coll=$1
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
config="$coll/tests/integration/integration_config.yml"

if [ "${DEFENDER_REAL_TENANT:-0}" = "1" ]; then
  cp "$root/tests/integration/integration_config.yml" "$config"
else
  work=$(mktemp -d)
  # MDE_EMULATOR_SETTINGS (JSON) runs the emulator in one of the documented variants (tests/utils/drift.py).
  mde-emulator --seed default --state-dir "$work" --info-file "$work/info.json" \
    --settings "${MDE_EMULATOR_SETTINGS:-"{}"}" >"$work/emulator.out" 2>"$work/emulator.err" &
  emulator_pid=$!
  trap 'kill $emulator_pid 2>/dev/null; wait $emulator_pid 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 100); do [ -s "$work/info.json" ] && break; sleep 0.1; done
  [ -s "$work/info.json" ] || { cat "$work/emulator.err"; echo "emulator did not start"; exit 1; }
  python "$root/tests/utils/write_integration_config.py" "$work/info.json" "$work/token-cache" > "$config"
fi
cd "$coll"
# --continue-on-error: one failed target does not hide the state of the rest.
ansible-test integration --python "${ANSIBLE_TEST_PYTHON:-3.11}" --color no --continue-on-error "$@"
