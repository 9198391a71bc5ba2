#!/usr/bin/env bash
# The support matrix: each ansible-core in its own pinned virtual environment (.venvs/ansible-<version>, from
# tests/matrix/ansible-<version>.txt), on the Python it supports.
#   matrix.sh venv VERSION            create or refresh that environment
#   matrix.sh run VERSION STEP...     run steps in it: sanity, units, integration (every target), or
#                                     integration:TARGET[,TARGET...] (only those)
# VERSION `floor` is the oldest ansible-core with the declared minimum of every runtime requirement: the pins of
# tests/matrix/floor.txt plus NAME==MIN for each `NAME>=MIN` line of requirements.txt, read at venv time so the
# row tests whatever requirements.txt declares (see floor_requirements).
# Each version gets its own layout of the collection, so nothing one version's ansible-test writes is seen by another.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

# ansible-core version -> the Python it runs on here (2.20 and newer need 3.12+ on the controller).
python_for() {
  case "$1" in
    2.16 | floor) echo 3.11 ;;
    2.20) echo 3.12 ;;
    2.21) echo 3.13 ;;
    *) echo "no Python known for ansible-core $1" >&2; exit 2 ;;
  esac
}

# python3.X from PATH, or from pyenv when PATH has only the default one.
find_python() {
  local minor=$1 candidate
  if command -v "python$minor" >/dev/null 2>&1 && "python$minor" -c '' 2>/dev/null; then
    command -v "python$minor"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$minor".*/bin/"python$minor"; do
      [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
  fi
  echo "python$minor not found (install it, or pyenv install $minor)" >&2
  exit 2
}

venv_of() { echo "$root/.venvs/ansible-$1"; }

# The lines of a requirements file that name a package, without comments; and a line's package name, normalised.
requirement_lines() { sed -e 's/#.*//' -e 's/ *$//' "$@" | grep -E '^[A-Za-z0-9]' || true; }
package_name() { sed -E 's/[<>=!~ ;[].*//' | tr 'A-Z_.' 'a-z--'; }

# NAME==MIN for each runtime requirement of requirements.txt. One without a plain `NAME>=MIN` is an error, so a
# new runtime dependency cannot slip past the floor row untested.
runtime_floors() {
  local line
  requirement_lines "$root/requirements.txt" | while IFS= read -r line; do
    if ! printf '%s\n' "$line" | grep -qE '^[A-Za-z0-9._-]+ *>= *[0-9][0-9A-Za-z.]*$'; then
      echo "requirements.txt: '$line' declares no NAME>=MIN floor for the floor row to install" >&2
      return 1
    fi
    printf '%s\n' "$line" | sed -E 's/ *>= */==/'
  done
}

# The floor row's requirements: units.txt less every package that floor.txt or requirements.txt names, then
# floor.txt's pins, then the runtime floors.
floor_requirements() {
  local names line floors
  floors=$(runtime_floors)
  names=$(requirement_lines "$root/requirements.txt" "$root/tests/matrix/floor.txt" | package_name | sort -u)
  echo "# written by tests/utils/matrix.sh from tests/matrix/units.txt, tests/matrix/floor.txt, requirements.txt"
  requirement_lines "$root/tests/matrix/units.txt" | while IFS= read -r line; do
    printf '%s\n' "$names" | grep -qxF "$(printf '%s\n' "$line" | package_name)" || printf '%s\n' "$line"
  done
  requirement_lines "$root/tests/matrix/floor.txt"
  printf '%s\n' "$floors"
}

# Two lanes of run_all.sh may want the same venv at once: the second waits for the first, then finds it built.
make_venv() {
  mkdir -p "$root/.venvs"
  (
    flock 9
    build_venv "$1"
  ) 9>"$root/.venvs/.lock-$1"
}

build_venv() {
  local version=$1 venv reqs stamp
  venv=$(venv_of "$version")
  stamp="$venv/.installed"
  if [ "$version" = floor ]; then
    reqs=$(mktemp)
    floor_requirements >"$reqs"
    # Rebuilt when what it would install changes, whichever of the three files changed it.
    if [ -e "$stamp" ] && cmp -s "$reqs" "$venv/requirements.txt"; then
      rm -f "$reqs"
      return
    fi
  else
    reqs="$root/tests/matrix/ansible-$version.txt"
    if [ -e "$stamp" ] && [ "$stamp" -nt "$reqs" ] && [ "$stamp" -nt "$root/tests/matrix/units.txt" ]; then
      return
    fi
  fi
  rm -rf "$venv"
  "$(find_python "$(python_for "$version")")" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
  if [ "$version" = floor ]; then
    mv "$reqs" "$venv/requirements.txt"
    echo "floor row: the declared minimum of every runtime requirement: $(runtime_floors | paste -sd' ')"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    -e "$root/tests/mde_emulator"
  touch "$stamp"
}

run_steps() {
  local version=$1 venv python coll
  shift
  make_venv "$version"
  venv=$(venv_of "$version")
  python=$(python_for "$version")
  # The main .venv stays on PATH behind it for the tools that are not ansible-core's (ansible-rulebook).
  export PATH="$venv/bin:$root/.venv/bin:$PATH"
  coll=$(SECOPS_BUILD_DIR="${TMPDIR:-/tmp}/secops-defender-ansible-$version" bash "$root/tests/utils/layout.sh")
  bash "$root/tests/utils/seed_get_pip.sh"
  for step in "$@"; do
    printf '\n--- ansible-core %s on Python %s: %s (%s) ---\n' "$(python -c 'import ansible.release as r; print(r.__version__)')" \
      "$python" "$step" "$(date +%T)"
    case "$step" in
      sanity) (cd "$coll" && ansible-test sanity --requirements --python "$python" --color no) ;;
      units) (cd "$coll" && ansible-test units --python "$python" --color no) ;;
      integration) ANSIBLE_TEST_PYTHON="$python" bash "$root/tests/utils/integration.sh" "$coll" ;;
      integration:*)
        # shellcheck disable=SC2046  # the targets, one word each
        ANSIBLE_TEST_PYTHON="$python" bash "$root/tests/utils/integration.sh" "$coll" $(echo "${step#integration:}" | tr ',' ' ') ;;
      *) echo "unknown step $step" >&2; exit 2 ;;
    esac
  done
}

case "${1:-}" in
  venv) make_venv "$2" ;;
  run) shift; run_steps "$@" ;;
  *) echo "usage: $0 venv VERSION | run VERSION STEP..." >&2; exit 2 ;;
esac
