#!/usr/bin/env bash
# Build the HTML docs site with antsibull-docs: module, plugin and role pages, the changelog and the guides in
# docs/docsite, plus pages for the EDA event source, the rulebook and the playbooks (tests/utils/docs_site.py).
# Sphinx runs with warnings as errors, except those caused by having no internet (intersphinx cannot fetch
# docs.ansible.com's inventory). The site lands in docs/build/html (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/docs/build/html}
build="${TMPDIR:-/tmp}/secops-defender-docs"
coll=$(SECOPS_BUILD_DIR="$build/collections" bash "$root/tests/utils/layout.sh")
export ANSIBLE_COLLECTIONS_PATH="$build/collections"
site="$build/site"
rm -rf "$site"
mkdir -p "$site"
chmod 755 "$site"

# The collection's own documentation must lint clean: extra docs, links.yml, and every plugin's markup.
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck "$coll"

antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$site" \
  --project secops.defender --title secops.defender --copyright "secops.defender contributors" secops.defender >/dev/null
# The header links of this project (galaxy.yml), not the theme's.
python "$root/tests/utils/docs_site.py" conf "$coll" >>"$site/conf.py"
log="$build/sphinx.log"
# What sphinx-init's build.sh does, with one step between: antsibull-docs writes the plugin, role and changelog
# pages into rst/; docs_site.py adds the event source, rulebook and playbook pages (and spells the collection's
# name as it is spelled); then sphinx-build -W --keep-going.
(
  cd "$site"
  mkdir -p rst
  chmod og-w rst  # antsibull-docs wants that directory only readable by itself
  antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error --use-current \
    --squash-hierarchy --dest-dir rst secops.defender
  python "$root/tests/utils/docs_site.py" pages "$coll" rst
  sphinx-build -M html rst build -c . -W --keep-going
) >"$build/build.out" 2>"$log" || true
# Warnings fail the build, except the ones that come from having no internet: intersphinx cannot fetch
# docs.ansible.com's inventory, so the labels and variables that only it defines stay unresolved.
offline=(-e "intersphinx" -e "failed to reach any of the inventories" -e "^$"
  -e "undefined label: 'common_return_values'" -e "undefined label: 'ansible_configuration_settings'"
  -e "'envvar' reference target not found: ANSIBLE_")
if grep -v "${offline[@]}" "$log" | grep -q . || [ ! -s "$site/build/html/index.html" ]; then
  cat "$log"
  echo "docs: the build failed or sphinx reported the warnings above"
  exit 1
fi
python "$root/tests/utils/docs_site.py" check "$coll" "$site/build/html"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$site/build/html" "$out"
echo "docs: $(find "$out" -name '*.html' | wc -l) pages in $out"
