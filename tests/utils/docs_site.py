"""What antsibull-docs does not make for the docs site, made from the collection's own files so it cannot drift:

    docs_site.py conf COLLECTION            Sphinx settings to append to conf.py: the header links point at this
                                            project (repository, issues and documentation from galaxy.yml)
                                            instead of the theme's defaults.
    docs_site.py pages COLLECTION RST_DIR   after `antsibull-docs collection` wrote RST_DIR: a page for each EDA
                                            event source (from its DOCUMENTATION and EXAMPLES), each rulebook and
                                            each playbook (from their comments, variables and tasks), listed in
                                            the index; and the collection's name as it is spelled (antsibull-docs
                                            title-cases it: "Secops.Defender") in every heading.
    docs_site.py check COLLECTION HTML_DIR  the built site as a reader sees it: the title, the header links, and
                                            a page for the changelog and for each of those.

The pages are written into the site only, never into the collection, so docs/docsite/extra-docs.yml stays valid for
any other docs build of the collection."""

import ast
import json
import os
import re
import sys

import yaml
from antsibull_docs_parser import dom, parser
from antsibull_docs_parser.rst import PlainRSTFormatter, rst_escape, to_rst_plain


def _galaxy(collection):
    with open(os.path.join(collection, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


def conf(collection):
    galaxy = _galaxy(collection)
    links = {"Repository": galaxy["repository"], "Issues": galaxy["issues"]}
    if galaxy.get("documentation") and galaxy["documentation"] != galaxy["repository"]:
        links["Documentation sources"] = galaxy["documentation"]
    print("\n# Added by tests/utils/docs_site.py: the header links of this project, from galaxy.yml.")
    print("html_theme_options = %r" % {
        "topbar_links": links,
        "documentation_home_url": galaxy.get("homepage") or galaxy["repository"],
        "show_rtd_ethical_ads": False,
    })


# --- Ansible markup -------------------------------------------------------------------------------------------
class _Formatter(PlainRSTFormatter):
    """Plain RST, with options of the page's own plugin linked to their row and variables as literals (only the
    ones antsibull-docs lists have a target)."""

    def __init__(self, fqcn, labels):
        self.fqcn = fqcn
        self.labels = labels

    def format_option_name(self, part, url):
        own = part.plugin is None or part.plugin.fqcn == self.fqcn
        if own and part.value is None and part.name in self.labels:
            return "\\ :ref:`%s <%s>`\\ " % (rst_escape(part.name, escape_ending_whitespace=True),
                                             self.labels[part.name])
        text = part.name if part.value is None else "%s=%s" % (part.name, part.value)
        return "\\ :literal:`%s`\\ " % rst_escape(text, escape_ending_whitespace=True, must_not_be_empty=True)

    def format_env_variable(self, part):
        return "\\ :literal:`%s`\\ " % rst_escape(part.name, escape_ending_whitespace=True, must_not_be_empty=True)

    def format_return_value(self, part, url):
        return self.format_option_name(part, url)


def _markup(text, fqcn, plugin_type, labels):
    paragraphs = [text] if isinstance(text, str) else list(text)
    context = parser.Context(current_plugin=dom.PluginIdentifier(fqcn=fqcn, type=plugin_type))
    parsed = parser.parse(paragraphs, context, errors="exception")
    return to_rst_plain(parsed, formatter=_Formatter(fqcn, labels), current_plugin=context.current_plugin)


def _indent(text, spaces):
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def _heading(text, char, label=None):
    lines = [".. _%s:" % label, ""] if label else []
    return "\n".join(lines + [text, char * len(text), ""])


def _literal(value):
    return ":literal:`%s`" % rst_escape(value if isinstance(value, str) else json.dumps(value),
                                        escape_ending_whitespace=True, must_not_be_empty=True)


def _yaml_flow(value):
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().rstrip(".").strip()


def _code(language, text):
    return ".. code-block:: %s\n\n%s\n" % (language, _indent(text.strip("\n"), 2))


# --- event sources ------------------------------------------------------------------------------------------------
def _module_strings(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return dict((node.targets[0].id, node.value.value) for node in tree.body
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))


def event_source_page(collection, collection_name, path):
    galaxy = _galaxy(collection)
    strings = _module_strings(path)
    doc = yaml.safe_load(strings["DOCUMENTATION"])
    name = doc.get("name") or os.path.splitext(os.path.basename(path))[0]
    fqcn = "%s.%s" % (collection_name, name)
    label = "ansible_collections.%s_event_source" % fqcn
    options = doc.get("options") or {}
    labels = dict((option, "%s__option-%s" % (label, option)) for option in options)

    def markup(text):
        return _markup(text, fqcn, "event_source", labels)

    out = [_heading("%s event source -- %s" % (fqcn, doc["short_description"]), "=", label)]
    out.append("This event source is part of the %s collection (version %s). It runs in ansible-rulebook "
               "(Event-Driven Ansible), as ``%s`` in a rulebook's ``sources``. Source: %s.\n" % (
                   collection_name, galaxy["version"], fqcn, _source_link(galaxy, os.path.relpath(path, collection))))
    if doc.get("version_added"):
        out.append("New in %s %s.\n" % (collection_name, doc["version_added"]))
    out.append(".. contents::\n  :local:\n  :depth: 1\n")
    out.append(_heading("Synopsis", "-"))
    out.extend("- %s\n" % _indent(markup(text), 2).lstrip() for text in doc.get("description") or [])
    if doc.get("requirements"):
        out.append(_heading("Requirements", "-"))
        out.extend("- %s\n" % markup(text) for text in doc["requirements"])
    out.append(_heading("Parameters", "-"))
    out.append("Each option is taken from the rulebook's arguments first, then from its environment variables in "
               "the order listed, then its default.\n")
    rows = [".. list-table::", "  :widths: 25 75", "  :header-rows: 1", "", "  * - Parameter", "    - Comments"]
    for option, spec in options.items():  # as documented: the source's own options first
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind = "%s / elements=%s" % (kind, spec["elements"])
        if spec.get("required"):
            kind += " / required"
        rows += ["  * - .. _%s:" % labels[option], "", "      **%s**" % rst_escape(option), "",
                 "      :literal:`%s`" % rst_escape(kind), ""]
        comments = [markup(text) for text in (spec.get("description") or [])]
        if spec.get("choices"):
            comments.append("**Choices:** %s" % ", ".join(
                _literal(choice) + (" (default)" if choice == spec.get("default") else "")
                for choice in spec["choices"]))
        if "default" in spec and not spec.get("choices"):
            default = spec["default"]
            comments.append("**Default:** %s" % _literal(
                json.dumps(default) if isinstance(default, bool) else str(default)))
        if spec.get("env"):
            comments.append("**Environment variables:** %s" % ", ".join(_literal(e["name"]) for e in spec["env"]))
        body = "\n\n".join(comments)
        rows.append("    - " + _indent(body, 6).lstrip())
        rows.append("")
    out.append("\n".join(rows))
    if doc.get("seealso"):
        out.append(_heading("See Also", "-"))
        for item in doc["seealso"]:
            if item.get("module"):
                out.append("- :ref:`%s <ansible_collections.%s_module>`\n" % (
                    rst_escape(item["module"]), item["module"]))
            elif item.get("ref"):
                text = rst_escape(item.get("description") or item["ref"])
                out.append("- :ref:`%s <%s>`\n" % (text, item["ref"]))
    if strings.get("EXAMPLES"):
        out.append(_heading("Examples", "-"))
        out.append(_code("yaml+jinja", strings["EXAMPLES"]))
    if doc.get("author"):
        out.append(_heading("Authors", "-"))
        out.extend("- %s\n" % rst_escape(author) for author in doc["author"])
    return name, doc["short_description"], "\n".join(out)


# --- rulebooks and playbooks --------------------------------------------------------------------------------------
def _leading_comment(text):
    lines = []
    for line in text.splitlines():
        if line.strip() == "---" and not lines:
            continue
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def _prose(lines):
    """RST for a file's leading comment: commands as shell code, indented runs as literal blocks, the rest as
    paragraphs."""
    out, paragraph, literal, commands = [], [], [], []

    def flush():
        if commands:
            out.append(_code("bash", "\n".join(commands)))
            del commands[:]
        if literal:
            out.append("::\n\n%s\n" % _indent("\n".join(literal), 2))
            del literal[:]
        if paragraph:
            out.append(rst_escape(" ".join(paragraph)) + "\n")
            del paragraph[:]

    for line in lines + [""]:
        if not line.strip():
            flush()
        elif re.match(r"^(ansible-playbook|ansible-rulebook|ansible-runner) ", line):
            if paragraph or literal:
                flush()
            commands.append(line)
        elif line.startswith("  "):
            if paragraph or commands:
                flush()
            literal.append(line)
        else:
            if literal or commands:
                flush()
            paragraph.append(line.strip())
    return "\n".join(out)


def _task_lines(tasks, collection_name, depth=0):
    out = []
    for task in tasks or []:
        refs = []
        for key, value in task.items():
            if key.startswith(collection_name + "."):
                refs.append(":ref:`%s <ansible_collections.%s_module>`" % (rst_escape(key), key))
            elif key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role",
                         "import_role") and isinstance(value, dict) and \
                    str(value.get("name", "")).startswith(collection_name + "."):
                role = value["name"]
                refs.append(":ref:`%s role <ansible_collections.%s_role>`" % (rst_escape(role), role))
        name = rst_escape(task.get("name") or "(unnamed)")
        out.append("%s- %s%s" % ("  " * depth, name, (" (" + ", ".join(refs) + ")") if refs else ""))
        for key in ("block", "rescue", "always"):
            if task.get(key):
                out.append("")
                out.extend(_task_lines(task[key], collection_name, depth + 1))
                out.append("")
    return out


def _source_link(galaxy, relpath):
    return "`%s <%s/blob/main/%s>`__" % (relpath, galaxy["repository"].rstrip("/"), relpath)


def playbook_page(collection, collection_name, path):
    galaxy = _galaxy(collection)
    with open(path) as handle:
        text = handle.read()
    plays = yaml.safe_load(text)
    name = os.path.splitext(os.path.basename(path))[0]
    fqcn = "%s.%s" % (collection_name, name)
    title = plays[0].get("name") or name
    out = [_heading("%s playbook -- %s" % (fqcn, title), "=", "ansible_collections.%s_playbook" % fqcn)]
    out.append("This playbook is part of the %s collection (version %s): run it as ``ansible-playbook %s`` once "
               "the collection is installed. Source: %s.\n" % (
                   collection_name, galaxy["version"], fqcn, _source_link(galaxy, os.path.relpath(path, collection))))
    out.append(".. contents::\n  :local:\n  :depth: 1\n")
    out.append(_heading("What it does", "-"))
    out.append(_prose(_leading_comment(text)))
    for play in plays:
        if len(plays) > 1:
            out.append(_heading(play.get("name") or "Play", "~"))
        if play.get("vars"):
            out.append(_heading("Variables and their defaults", "-"))
            out.append("Set any of them with ``-e``; the play's own values are these:\n")
            rows = [".. list-table::", "  :widths: 35 65", "  :header-rows: 1", "", "  * - Variable",
                    "    - Default"]
            for var, value in play["vars"].items():
                rows += ["  * - ``%s``" % var, "    - %s" % _literal(
                    value if isinstance(value, str) else _yaml_flow(value))]
            out.append("\n".join(rows) + "\n")
        out.append(_heading("Tasks", "-"))
        out.append("Runs on ``%s``, in this order:\n" % play.get("hosts"))
        out.append("\n".join(_task_lines(play.get("tasks"), collection_name)) + "\n")
    return name, title, "\n".join(out)


def rulebook_page(collection, collection_name, path):
    galaxy = _galaxy(collection)
    with open(path) as handle:
        text = handle.read()
    rulebook = yaml.safe_load(text)
    name = os.path.splitext(os.path.basename(path))[0]
    fqcn = "%s.%s" % (collection_name, name)
    title = rulebook[0].get("name") or name
    out = [_heading("%s rulebook -- %s" % (fqcn, title), "=", "ansible_collections.%s_rulebook" % fqcn)]
    out.append("This rulebook is part of the %s collection (version %s): run it as ``ansible-rulebook -r %s`` "
               "once the collection is installed. Source: %s.\n" % (
                   collection_name, galaxy["version"], fqcn, _source_link(galaxy, os.path.relpath(path, collection))))
    out.append(_heading("What it does", "-"))
    out.append(_prose(_leading_comment(text)))
    uses = []
    for ruleset in rulebook:
        for source in ruleset.get("sources") or []:
            for key in source:
                if key.startswith(collection_name + "."):
                    uses.append(":ref:`%s event source <ansible_collections.%s_event_source>`" % (key, key))
        for rule in ruleset.get("rules") or []:
            for action in (rule.get("actions") or [rule.get("action") or {}]):
                for kind in ("run_playbook", "run_job_template"):
                    target = (action.get(kind) or {}).get("name", "")
                    if kind == "run_playbook" and target.startswith(collection_name + "."):
                        uses.append(":ref:`%s playbook <ansible_collections.%s_playbook>`" % (target, target))
    if uses:
        out.append("It uses the %s.\n" % ", and the ".join(uses))
    out.append(_heading("The rulebook", "-"))
    out.append(_code("yaml+jinja", text))
    return name, title, "\n".join(out)


# --- the site -----------------------------------------------------------------------------------------------------
def _index_section(collection_name, title, label, entries, kind):
    out = [_heading(title, "-", label)]
    for name, description, _text in entries:
        out.append("* :ref:`%s %s <ansible_collections.%s.%s_%s>` -- %s" % (
            name, kind.replace("_", " "), collection_name, name, kind, rst_escape(description)))
    out += ["", ".. toctree::", "    :maxdepth: 1", "    :hidden:", ""]
    out += ["    %s_%s" % (name, kind) for name, _d, _t in entries]
    return "\n".join(out) + "\n"


def pages(collection, rst_dir):
    galaxy = _galaxy(collection)
    collection_name = "%s.%s" % (galaxy["namespace"], galaxy["name"])
    sections = []

    def write(entries, kind):
        for name, _description, text in entries:
            with open(os.path.join(rst_dir, "%s_%s.rst" % (name, kind)), "w") as handle:
                handle.write(text)

    def files(folder, suffixes):
        folder = os.path.join(collection, folder)
        if not os.path.isdir(folder):
            return []
        return [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                if f.endswith(suffixes) and not f.startswith("_")]

    sources = [event_source_page(collection, collection_name, p) for p in files("extensions/eda/plugins/event_source", ".py")]
    rulebooks = [rulebook_page(collection, collection_name, p)
                 for p in files("extensions/eda/rulebooks", (".yml", ".yaml"))]
    playbooks = [playbook_page(collection, collection_name, p) for p in files("playbooks", (".yml", ".yaml"))]
    write(sources, "event_source")
    write(rulebooks, "rulebook")
    write(playbooks, "playbook")
    for entries, title, label, kind in (
            (sources, "Event Source Index", "event_source_plugins_in_", "event_source"),
            (rulebooks, "Rulebook Index", "rulebooks_in_", "rulebook"),
            (playbooks, "Playbook Index", "playbooks_in_", "playbook")):
        if entries:
            sections.append(_index_section(collection_name, title, label + collection_name, entries, kind))
    index_path = os.path.join(rst_dir, "index.rst")
    with open(index_path) as handle:
        index = handle.read()
    index = index.rstrip("\n") + "\n\n" + "\n".join(sections)
    with open(index_path, "w") as handle:
        handle.write(index)
    # The collection's name as it is spelled, where antsibull-docs title-cased it (index and changelog headings).
    wrong = collection_name.title()
    for folder, _dirs, names in os.walk(rst_dir):
        for filename in names:
            if filename.endswith(".rst"):
                path = os.path.join(folder, filename)
                with open(path) as handle:
                    text = handle.read()
                if wrong in text:
                    with open(path, "w") as handle:
                        handle.write(text.replace(wrong, collection_name))
    print("docs: pages for %d event source(s), %d rulebook(s), %d playbook(s)" % (
        len(sources), len(rulebooks), len(playbooks)))


def check(collection, html_dir):
    galaxy = _galaxy(collection)
    name = "%s.%s" % (galaxy["namespace"], galaxy["name"])
    problems = []

    def read(page):
        path = os.path.join(html_dir, page)
        if not os.path.isfile(path):
            problems.append("no page %s" % page)
            return ""
        with open(path) as handle:
            return handle.read()

    index = read("index.html")
    title = re.search(r"<title>(.*?)</title>", index, re.S)
    if not title or not title.group(1).startswith(name + " "):
        problems.append("index.html's title is %r, not %s" % (title and title.group(1), name))
    nav = re.search(r'<div class="DocSite-globalNav ansibleNav">(.*?)</div>', index, re.S)
    links = re.findall(r'href="([^"]+)"', nav.group(1)) if nav else []
    if galaxy["repository"] not in links or galaxy["issues"] not in links:
        problems.append("the header links are %s, not the repository and issues of galaxy.yml" % links)
    if [link for link in links if "ansible.com" in link]:
        problems.append("the header still has the theme's links: %s" % links)
    pages = ["changelog.html"]
    for folder, kind, suffixes in (("extensions/eda/plugins/event_source", "event_source", (".py",)),
                                   ("extensions/eda/rulebooks", "rulebook", (".yml", ".yaml")),
                                   ("playbooks", "playbook", (".yml", ".yaml"))):
        path = os.path.join(collection, folder)
        for filename in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            if filename.endswith(suffixes) and not filename.startswith("_"):
                pages.append("%s_%s.html" % (os.path.splitext(filename)[0], kind))
    for page in pages:
        text = read(page)
        if text and page not in index:
            problems.append("index.html does not link %s" % page)
    for folder, _dirs, names in os.walk(html_dir):
        for filename in names:
            if filename.endswith(".html"):
                with open(os.path.join(folder, filename)) as handle:
                    if re.search(r"<h1>[^<]*%s" % re.escape(name.title()), handle.read()):
                        problems.append("%s has the heading %s" % (filename, name.title()))
    for problem in problems:
        print("docs: " + problem)
    if not problems:
        print("docs: titled %s, header links to %s and %s, pages for %s" % (
            name, galaxy["repository"], galaxy["issues"], ", ".join(pages)))
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1] == "conf":
        conf(sys.argv[2])
    elif sys.argv[1] == "pages":
        pages(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("usage: docs_site.py conf COLLECTION | pages COLLECTION RST_DIR | check COLLECTION HTML_DIR")
