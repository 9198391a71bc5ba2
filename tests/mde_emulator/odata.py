"""A small OData $filter parser: comparisons, and/or/not, parentheses, in, startswith, and any() on lists."""

import re

from .clock import parse_iso

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+Z?)"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<punct>[(),:])"
    r"|(?P<word>[A-Za-z_$][A-Za-z0-9_./$]*)"
    r")"
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    pass


def _tokenize(text):
    pos, tokens = 0, []
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError("Invalid $filter near %r" % text[pos:pos + 20])
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        tokens.append((kind, value))
    return tokens


def _lookup(entity, field):
    for key, value in entity.items():
        if key.lower() == field.lower():
            return value
    return None


def _coerce(left, right):
    """Compare dates as dates, strings without regard to case."""
    if isinstance(left, str) and isinstance(right, str):
        if re.match(r"^\d{4}-\d{2}-\d{2}T", right) and re.match(r"^\d{4}-\d{2}-\d{2}T", left):
            return parse_iso(left), parse_iso(right)
        return left.lower(), right.lower()
    return left, right


def _compare(op, left, right):
    if left is None or right is None:
        return {"eq": left == right, "ne": left != right}.get(op, False)
    left, right = _coerce(left, right)
    try:
        return {
            "eq": left == right, "ne": left != right, "gt": left > right,
            "ge": left >= right, "lt": left < right, "le": left <= right,
        }[op]
    except TypeError:
        return False


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0
        self.fields = set()  # the properties the filter names, to check against the documented ones
        self.bound = set()   # lambda variables of any(), which are not properties

    def _uses(self, name):
        if name.lower() not in self.bound:
            self.fields.add(name)

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        tok = self.peek()
        if tok[0] is None or (kind and tok[0] != kind) or (value is not None and str(tok[1]).lower() != value):
            raise FilterError("Invalid $filter: expected %s, found %r" % (value or kind, tok[1]))
        self.pos += 1
        return tok

    def is_word(self, word):
        kind, value = self.peek()
        return kind == "word" and value.lower() == word

    def parse(self):
        pred = self.parse_or()
        if self.pos != len(self.tokens):
            raise FilterError("Invalid $filter: unexpected %r" % (self.peek()[1],))
        return pred

    def parse_or(self):
        parts = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def parse_and(self):
        parts = [self.parse_not()]
        while self.is_word("and"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def parse_not(self):
        if self.is_word("not"):
            self.take()
            inner = self.parse_not()
            return lambda e: not inner(e)
        return self.parse_primary()

    def parse_value(self):
        kind, value = self.take()
        if kind == "word":
            lowered = value.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            raise FilterError("Invalid $filter: %r is not a value" % value)
        if kind == "punct":
            raise FilterError("Invalid $filter: expected a value, found %r" % value)
        return value

    def parse_primary(self):
        kind, value = self.peek()
        if kind == "punct" and value == "(":
            self.take()
            inner = self.parse_or()
            self.take("punct", ")")
            return inner
        field = self.take("word")[1]
        lowered = field.lower()
        if lowered in ("startswith", "endswith", "contains"):
            self.take("punct", "(")
            name = self.take("word")[1]
            self._uses(name)
            self.take("punct", ",")
            needle = str(self.parse_value()).lower()
            self.take("punct", ")")
            test = {"startswith": str.startswith, "endswith": str.endswith,
                    "contains": lambda hay, n: n in hay}[lowered]
            return lambda e: isinstance(_lookup(e, name), str) and test(_lookup(e, name).lower(), needle)
        if lowered.endswith("/any"):
            # machineTags/any(tag: tag eq 'x')
            name = field[:-4]
            self._uses(name)
            self.take("punct", "(")
            var = self.take("word")[1]
            self.bound.add(var.lower())
            self.take("punct", ":")
            inner = self.parse_or()
            self.take("punct", ")")
            return lambda e: any(inner({var: item}) for item in (_lookup(e, name) or []))
        self._uses(field)
        op_kind, op = self.take("word")
        op = op.lower()
        if op == "in":
            self.take("punct", "(")
            values = [self.parse_value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.parse_value())
            self.take("punct", ")")
            return lambda e: any(_compare("eq", _lookup(e, field), v) for v in values)
        if op not in _COMPARE:
            raise FilterError("Invalid $filter: unknown operator %r" % op)
        right = self.parse_value()
        return lambda e: _compare(op, _lookup(e, field), right)


def compile_filter(text, allowed=None):
    """Turn a $filter string into a predicate over entity dicts. Raises FilterError, also when the filter names a
    property outside `allowed` (the documented filterable ones), as the API does."""
    if not text:
        return lambda e: True
    parser = _Parser(_tokenize(text))
    predicate = parser.parse()
    if allowed is not None:
        known = set(a.lower() for a in allowed)
        refused = sorted(f for f in parser.fields if f.lower() not in known)
        if refused:
            raise FilterError("Invalid filter clause: the property %s cannot be filtered on; filterable properties "
                              "are %s" % (", ".join(refused), ", ".join(allowed)))
    return predicate
