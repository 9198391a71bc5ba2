#!/usr/bin/env bash
# The whole test pipeline behind `make test`. Pass step names to run only some:
#   emulator   the emulator's own pytest suite
#   lint       ansible-lint --profile production
#   sanity     ansible-test sanity on ansible-core 2.19 (.venv)
#   units      ansible-test units on 2.19, with coverage
#   matrix     sanity and units on 2.16, 2.20 and 2.21, each in its own pinned venv (.venvs/); then the floor row:
#              units and the certificate sign-in target on 2.16 with the minimum of each of requirements.txt
#   integration  ansible-test integration against the emulator on the oldest and newest (2.16 and 2.21)
#   examples   every EXAMPLES block and README/guide YAML snippet, run against a fresh emulator (tests/examples)
#   ecosystem  galaxy-importer, ansible-builder and an ansible-runner job, on the built collection
#   docs       the docs site with antsibull-docs
#   drift      today's documented API variant; soak: a short fault soak
# With no step named, the steps run in three lanes at once (SECOPS_TEST_LANES=1 runs them one after another): the
# integration on 2.16, the integration on 2.21, and every other step. One after another they took 88 minutes on a
# fresh two-core machine with the cores about half busy (one pytest process, a play's tasks, the emulator's clock),
# the integration being the longest part. Each lane has its own TMPDIR, so its layouts, builds and emulators are its
# own; the venvs two lanes use are built once, under a lock (matrix.sh). Every line is prefixed with its lane.
#   integration:V  the integration on ansible-core V alone
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0
steps=${*:-"emulator lint sanity units matrix integration examples ecosystem docs drift soak"}
bash tests/utils/seed_get_pip.sh
bash tests/utils/seed_ssh_key.sh
bash tests/utils/ensure_redis.sh

step() { printf '\n=== %s (%s) ===\n' "$1" "$(date +%T)"; }

run_step() {
  case "$1" in
  emulator)
    step "emulator test suite"
    (cd "$root/tests" && python -m pytest -q -p no:cacheprovider mde_emulator/tests)
    ;;
  lint)
    step "ansible-lint --profile production"
    bash "$root/tests/utils/lint.sh"
    ;;
  sanity)
    step "ansible-test sanity (ansible-core 2.19)"
    (cd "$coll" && ansible-test sanity --requirements --python 3.11 --color no)
    ;;
  units)
    step "ansible-test units (ansible-core 2.19, with coverage)"
    (cd "$coll" && ansible-test units --python 3.11 --color no --coverage \
      && ansible-test coverage report --color no --include 'plugins/*' --show-missing)
    ;;
  matrix)
    for version in 2.16 2.20 2.21; do
      step "ansible-test sanity and units on ansible-core $version"
      bash "$root/tests/utils/matrix.sh" run "$version" sanity units
    done
    step "the floor row: units and certificate sign-in with the declared minimum of each runtime requirement"
    bash "$root/tests/utils/matrix.sh" run floor units integration:auth_certificate
    ;;
  integration)
    run_step integration:2.16
    run_step integration:2.21
    ;;
  integration:*)
    step "ansible-test integration against the emulator on ansible-core ${1#integration:}"
    bash "$root/tests/utils/matrix.sh" run "${1#integration:}" integration
    ;;
  examples)
    step "examples: every EXAMPLES block and README/guide snippet against the emulator (ansible-core 2.19)"
    python "$root/tests/examples/run_examples.py" --collection "$coll"
    ;;
  ecosystem)
    step "galaxy-importer, ansible-builder, ansible-runner"
    bash "$root/tests/utils/ecosystem.sh"
    ;;
  docs)
    step "docs site (antsibull-docs)"
    bash "$root/tests/utils/docs.sh"
    ;;
  drift)
    step "drift matrix, today's variant (make drift runs them all)"
    python "$root/tests/utils/drift.py" --variants rotating
    ;;
  soak)
    step "fault soak, short (make soak runs 1000 devices)"
    # 160 devices: one failure is 0.6%, so the bound is 3% here (make soak holds 1000 devices to 2%).
    python "$root/tests/utils/soak.py" --devices 150 --sessions 10 --max-failed-percent 3
    ;;
  *) echo "unknown step $1"; exit 2 ;;
  esac
}

# A lane: this script again with its steps named (so they run one after another), in a TMPDIR of its own, each line
# of its output prefixed with the lane's name.
lane() {
  local name=$1
  shift
  mkdir -p "$lanes/$name"
  TMPDIR="$lanes/$name" bash "$root/tests/utils/run_all.sh" "$@" 2>&1 | sed -u "s/^/[$name] /" | tee "$lanes/$name.log"
}

# What a failed lane said, printed last: CI shows only the end of the output, where the other lanes' lines would
# otherwise stand. The failed step, the integration targets that failed and, for each, the failure that stopped it
# (its last failed task or assertion, with the lines of a failure printed as a block); for a lane with no failed
# target, the lines that say what failed (each cut to 600 characters, at most 12).
digest() {
  local log="$lanes/$1.log" targets target
  echo "--- lane $1: what failed ---"
  grep -a "FAILED: step" "$log" | tail -1 || true
  grep -a "\] === " "$log" | tail -1 || true
  # ansible-test names the failed targets on the lines after its summary (--continue-on-error ran the rest).
  targets=$(sed -n '/integration test(s) listed below/,/FAILED: step/p' "$log" |
    grep -av "FAILED: step\|listed below" | sed "s/^\[$1\] //" | grep -a '^[a-z0-9_]*$' || true)
  for target in $targets; do
    # A failure the play rescued or ignored comes before the one that ended the target, so the last one is it.
    awk -v start="[$1] Running $target integration test" -v lane="[$1] " '
      index($0, lane "Running ") == 1 && / integration test / { on = (index($0, start) == 1); next }
      !on { next }
      index($0, "fatal: ") || index($0, "FAILED! =>") || index($0, "Traceback") || index($0, "AssertionError") ||
        index($0, "SystemExit") {
        block = substr($0, length(lane) + 1); open = ($0 ~ /\{ *$/); n = 0; next
      }
      open { block = block " " substr($0, length(lane) + 1); if (++n >= 10 || $0 ~ /^\[[^]]*\] \}/) open = 0 }
      END { print "  " start ": " (block != "" ? block : "(no failed task in its output: see the lane log)") }' "$log" | sed "s/Running $target integration test/$target/" |
      cut -c1-1500
  done
  [ -n "$targets" ] && return 0
  # The failed tasks; a failure the play expected (followed by "...ignoring") is left out.
  awk -v lane="[$1] " '
    /\.\.\.ignoring/ { held = ""; next }
    { if (held != "") print held; held = "" }
    index($0, "listed below") { next }
    index($0, "fatal: ") || index($0, "FAILED! =>") || index($0, lane "ERROR: ") || index($0, "Traceback") ||
      index($0, "AssertionError") || index($0, lane "E  ") { held = $0 }
    END { if (held != "") print held }' "$log" | cut -c1-600 | tail -12
}

if [ $# -eq 0 ] && [ "${SECOPS_TEST_LANES:-2}" != 1 ]; then
  lanes=$(mktemp -d "${TMPDIR:-/tmp}/secops-defender-lanes.XXXXXX")
  step "three lanes: the integration on 2.16, on 2.21, and every other step"
  lane checks emulator lint sanity units matrix examples ecosystem docs drift soak &
  checks=$!
  lane int-2.16 integration:2.16 &
  oldest=$!
  lane int-2.21 integration:2.21 &
  newest=$!
  failed=""
  wait "$checks" || failed="$failed checks"
  wait "$oldest" || failed="$failed int-2.16"
  wait "$newest" || failed="$failed int-2.21"
  if [ -n "$failed" ]; then
    for name in $failed; do digest "$name"; done
    echo "failed lane(s):$failed (search the output for 'FAILED: step'; each lane's whole log is in $lanes)"
    exit 1
  fi
  rm -rf "$lanes"
else
  current=""
  # Says which step failed: in lanes, the other lanes' lines come between the error and the end.
  said_failed() {
    local status=$?
    if [ "$status" != 0 ] && [ -n "$current" ]; then
      echo "FAILED: step $current (exit $status, $(date +%T))"
    fi
  }
  trap said_failed EXIT
  coll=$(bash tests/utils/layout.sh)
  for current in $steps; do
    run_step "$current"
  done
  current=""
fi
step "done"
