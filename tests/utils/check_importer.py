"""Judge a galaxy-importer run as Galaxy and Automation Hub would show it, from its log and importer_result.json:
0 errors and 0 warnings, and every extension the collection ships (each event source in
extensions/eda/plugins/event_source, each event filter in extensions/eda/plugins/event_filter) listed among the
contents with its description, options and examples. Without meta/extensions.yml Galaxy still finds the files but
neither lists nor documents them as EDA content, and this fails.

    python check_importer.py COLLECTION_DIR IMPORTER_LOG IMPORTER_RESULT_JSON
"""

import json
import os
import re
import sys

EXTENSION_DIRS = ("eda/plugins/event_source", "eda/plugins/event_filter")
# What galaxy-importer logs for a problem: a level prefix, or an "error:"/"warning:" inside a tool's message.
PROBLEM = re.compile(r"^(ERROR|WARNING|CRITICAL)\b|[^_]error:|warning:", re.IGNORECASE)


def shipped_extensions(collection):
    found = []
    for ext_dir in EXTENSION_DIRS:
        folder = os.path.join(collection, "extensions", ext_dir)
        if os.path.isdir(folder):
            found.extend((ext_dir, name[:-3]) for name in sorted(os.listdir(folder))
                         if name.endswith(".py") and not name.startswith("_"))
    return found


def main(collection, log_path, result_path):
    with open(log_path) as handle:
        log = handle.read().splitlines()
    problems = [line for line in log if PROBLEM.search(line)]
    warnings = [line for line in problems if re.search(r"^WARNING\b|warning:", line, re.IGNORECASE)]
    errors = [line for line in problems if line not in warnings]
    failures = []
    if "Importer processing completed successfully" not in log:
        failures.append("galaxy-importer did not complete")
    with open(result_path) as handle:
        result = json.load(handle)
    listed = dict(((c["content_type"], c["name"]), c) for c in result.get("contents", []))
    documented = dict(((c["content_type"], c["content_name"]), c)
                      for c in result.get("docs_blob", {}).get("contents", []))
    for ext_dir, name in shipped_extensions(collection):
        label = "%s %s" % (ext_dir, name)
        entry = listed.get((ext_dir, name))
        docs = (documented.get((ext_dir, name)) or {}).get("doc_strings") or {}
        options = (docs.get("doc") or {}).get("options") or []
        if not entry:
            failures.append("%s is not listed in Galaxy's contents (is it in meta/extensions.yml?)" % label)
            continue
        if not docs:
            failures.append("%s is listed without documentation (its DOCUMENTATION did not load)" % label)
            continue
        if not options or not (docs.get("examples") or "").strip():
            failures.append("%s is documented without options or examples" % label)
            continue
        print("galaxy-importer lists %s: \"%s\", %d options, examples" % (label, entry.get("description"),
                                                                          len(options)))
    for line in problems:
        print("  " + line)
    print("galaxy-importer: %d errors, %d warnings" % (len(errors), len(warnings)))
    for failure in failures:
        print("galaxy-importer: " + failure)
    return 1 if problems or failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
