"""Find every example the collection shows: the EXAMPLES of each plugin, module and event source (found by walking
the folders, so a plugin added later is covered without a change here) and the YAML blocks of the READMEs and the
docs site's guides. Each becomes a Snippet with a stable name that the fixture file (fixtures.yml) uses."""

import ast
import glob
import os
import re
from dataclasses import dataclass, field

import yaml

PLUGIN_DIRS = ("plugins", "extensions")
DOCS = ("README.md", "roles/*/README.md", "playbooks/README.md", "docs/docsite/rst/*.rst")
MD_FENCE = re.compile(r"^```(yaml|yml|yaml\+jinja)\s*$")
RST_BLOCK = re.compile(r"^(\s*)\.\. code-block:: (yaml|yml|yaml\+jinja)\s*$")


@dataclass
class Snippet:
    name: str           # the fixture file's key
    source: str         # file, relative to the collection root
    line: int           # where the block starts
    text: str
    data: object = field(default=None)

    @property
    def kind(self):
        """play (a list of tasks and/or plays), inventory (an inventory source's config) or rulebook."""
        data = self.data
        if isinstance(data, yaml.YAMLError):
            return "not YAML (%s)" % str(data).replace("\n", " ")
        if isinstance(data, dict):
            return "inventory" if "plugin" in data else ("rulebook" if "sources" in data else "unknown")
        if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
            if any("sources" in item and "rules" in item for item in data):
                return "rulebook"
            return "play"
        return "unknown"


def _plugin_examples(root):
    for top in PLUGIN_DIRS:
        for path in sorted(glob.glob(os.path.join(root, top, "**", "*.py"), recursive=True)):
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            if "EXAMPLES" not in source:
                continue
            for node in ast.parse(source).body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and getattr(node.targets[0], "id", None) == "EXAMPLES"
                        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                    rel = os.path.relpath(path, root)
                    # modules/defender_alert, lookup/machine_ids, event_source/alerts: the plugin's type and name
                    name = "%s/%s" % (os.path.basename(os.path.dirname(rel)), os.path.basename(rel)[:-3])
                    yield Snippet(name, rel, node.lineno, node.value.value)


def _markdown_blocks(lines):
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and MD_FENCE.match(line.strip()):
            start, body = number, []
        elif start is not None and line.strip() == "```":
            yield start, "\n".join(body) + "\n"
            start = None
        elif start is not None:
            body.append(line)


def _rst_blocks(lines):
    number = 0
    while number < len(lines):
        match = RST_BLOCK.match(lines[number])
        number += 1
        if not match:
            continue
        start, body, indent = number, [], None
        while number < len(lines):
            line = lines[number]
            if line.strip() and indent is None:
                if line.startswith(":", len(line) - len(line.lstrip())):   # an option of the directive
                    number += 1
                    continue
                indent = len(line) - len(line.lstrip())
                if indent <= len(match.group(1)):
                    break
            if line.strip() and indent is not None and len(line) - len(line.lstrip()) < indent:
                break
            body.append(line[indent:] if indent and line.strip() else line.strip())
            number += 1
        yield start, "\n".join(body).strip("\n") + "\n"


def _first_name(data, text):
    items = data if isinstance(data, list) else [data]
    for item in items:
        if isinstance(item, dict) and item.get("name"):
            return str(item["name"])
        if isinstance(item, dict) and "hosts" in item:   # a play without a name: its first task or role
            for task in item.get("tasks") or []:
                if isinstance(task, dict) and task.get("name"):
                    return "play: %s" % task["name"]
            for role in item.get("roles") or []:
                return "play: %s" % (role.get("role") if isinstance(role, dict) else role)
    for line in text.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            return line.strip().lstrip("- ")
    return "empty"


def _doc_examples(root):
    for pattern in DOCS:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            blocks = _rst_blocks(lines) if path.endswith(".rst") else _markdown_blocks(lines)
            for line, text in blocks:
                try:
                    first = next(iter(yaml.safe_load_all(text)), None)
                except yaml.YAMLError:
                    first = None
                yield from _documents(Snippet("%s: %s" % (rel, _first_name(first, text)), rel, line, text))


def _documents(snippet):
    """A block of several YAML documents (two inventory files, `---` between them) is one example per document:
    the first keeps the block's name, the others are named "(document N)"."""
    parts = re.split(r"(?m)^---[ \t]*$", snippet.text)
    parts = [p for p in parts if p.strip()] or [snippet.text]
    for number, text in enumerate(parts, 1):
        name = snippet.name if number == 1 else "%s (document %d)" % (snippet.name, number)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:   # not YAML as written: reported as the example's failure
            data = exc
        yield Snippet(name, snippet.source, snippet.line, text, data)


def discover(root):
    """Every example, plugins first; the YAML is parsed (a block that is not YAML fails here, which is a finding)."""
    found = []
    for snippet in _plugin_examples(root):
        found.extend(_documents(snippet))
    found.extend(_doc_examples(root))
    names = [s.name for s in found]
    for snippet in found:
        if names.count(snippet.name) > 1:   # two blocks of one file with the same first task: number them
            snippet.name = "%s (line %d)" % (snippet.name, snippet.line)
    return found
