"""Write the EXAMPLES of a module or plugin to a tasks file, so that the target runs them as documented:
python examples.py SOURCE.py OUT.yml"""

import ast
import sys


def main(source, out):
    with open(source) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            with open(out, "w") as handle:
                handle.write("---\n" + node.value.value.lstrip("\n"))
            return
    raise SystemExit("no EXAMPLES in %s" % source)


if __name__ == "__main__":
    main(*sys.argv[1:])
