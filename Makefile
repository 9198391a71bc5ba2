# secops.defender: `make demo` shows the main job, `make test` runs every test. Both start from nothing but
# Python 3.11, git and make; `make test` also takes Python 3.12 and 3.13 (PATH or pyenv) for the support matrix.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

STAMP := $(VENV)/.installed

.PHONY: test emulator-tests soak drift demo demo-eda emulator clean venv bench bench-fleet bench-controllers bench-indicators demo-scope \
	bench-downloads

venv: $(STAMP)

$(STAMP): tests/requirements-dev.txt tests/matrix/units.txt tests/mde_emulator/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt
	# The emulator is a package of its own (mde-emulator); every test imports it as mde_emulator.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e tests/mde_emulator
	touch $(STAMP)

test: $(STAMP)
	bash tests/utils/run_all.sh

# One stage of `make test` each (tests/utils/run_all.sh says what each runs):
#   sanity, units     ansible-test on ansible-core 2.19 (units with coverage)
#   matrix            sanity and units on 2.16, 2.20 and 2.21, each in its own pinned venv under .venvs/
#                     (Python 3.12 and 3.13 from PATH or pyenv)
#   integration       against the emulator on the oldest and the newest ansible-core (2.16 and 2.21)
#   lint              ansible-lint --profile production, no skip list
#   examples          every module's and plugin's EXAMPLES and the README/guide YAML, run against the emulator
#   docs              the HTML docs site (antsibull-docs): docs/build/html
#   ecosystem         galaxy-importer on the built tarball, ansible-builder create and introspect, an ansible-runner job
STAGES := sanity units matrix integration lint docs ecosystem examples
.PHONY: $(STAGES)

$(STAGES): $(STAMP)
	bash tests/utils/run_all.sh $@

emulator-tests: $(STAMP)
	bash tests/utils/run_all.sh emulator

# A fleet play under ~20% injected faults (seeded), checked against the emulator's state (~10 min). `make test`
# runs a short one.
soak: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tests/utils/soak.py

# The integration targets of every module once per documented API variant, and the matrix (~40 min). `make test`
# runs one variant, rotating by the day of the year.
drift: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tests/utils/drift.py --variants all

emulator: $(STAMP)
	$(BIN)/mde-emulator --seed default --port 8443 --blob-port 8444

clean:
	rm -rf $(VENV) .venvs demo-output docs/build $${TMPDIR:-/tmp}/secops-defender-*

bench: $(STAMP)
	$(BIN)/python benchmarks/count_requests.py

# 1000 devices against the documented limits, scaled and then real; prints figures, asserts nothing (~35 min).
bench-fleet: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/fleet.py

# A 512 MB GetFile result, gzip and raw, downloaded by curl and by the collection on the same link: MB/s, RSS.
bench-downloads: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/downloads.py

# Four controllers (separate HOME, TMPDIR, state) on one tenant, without and with a Redis coordination store.
bench-controllers: $(STAMP)
	bash tests/utils/ensure_redis.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/controllers.py

# 3000 indicators created, rerun, and purged to 0 under the documented limits; prints calls by route (~1 min).
bench-indicators: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/indicators.py

demo: $(STAMP)
	bash demo/demo.sh

# The same incident started from a SHA-1 alone: the playbook scopes it (files API and hunting) before containing.
demo-scope: $(STAMP)
	DEMO_SCOPE=1 bash demo/demo.sh

demo-eda: $(STAMP)
	bash demo/demo_eda.sh
