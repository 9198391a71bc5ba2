# shellcheck shell=bash
# Sourced by the runme.sh targets (`. ../setup_emulator/files/runme_lib.sh`): the skip that every target reading the
# emulator's own state, log or controls needs. Against a real tenant such a target has nothing to check, so it ends
# with a message instead of failing.

# emulator_only CONFIG WHY: end the target (exit 0) with "not on the emulator: skipped (WHY)" unless the
# integration config CONFIG names the emulator.
emulator_only() {
  if ! python -c 'import json,sys; sys.exit(0 if "defender_emulator" in json.load(open(sys.argv[1])) else 1)' "$1"
  then
    echo "not on the emulator: skipped ($2)"
    exit 0
  fi
}
