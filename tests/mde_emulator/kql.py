"""A small, strict subset of the Kusto Query Language (KQL): a tokenizer, a parser and an evaluator over lists of
dicts, for the emulated advanced hunting API.

The rules it follows are Microsoft Learn's: "The string data type" (learn.microsoft.com/kusto/query/scalar-data-types/
string) for literals and escapes, "String operators" (learn.microsoft.com/kusto/query/datatypes-string-operators) for
has/contains/startswith and their case rules, and the tabular operators' own pages (where, project, extend, distinct,
summarize, take/limit, top, order/sort, count, union). Column and table names are case-sensitive, as in Kusto.

What is outside the subset is refused, never approximated: a KqlError of kind "unsupported" names the piece (an
operator, a function, an escape sequence, adjacent literals...). Syntax and semantic errors (an unknown column or
table, comparing a string with a number) are KqlErrors of kinds "syntax" and "semantic".

    plan = compile_query("DeviceProcessEvents | where FileName =~ 'cmd.exe' | project DeviceId", SCHEMAS, now)
    rows = plan.run({"DeviceProcessEvents": [...]})     # plan.schema: [(column, type), ...]

Rows are dicts; datetime values are epoch seconds (floats), timespans seconds (floats); strings are never None (an
empty string, as in Kusto), other types may be None (null).
"""

import math
import re

from .clock import parse_iso

# Kusto's scalar types as the API's Schema names them.
TYPE_NAMES = {"string": "String", "long": "Int64", "int": "Int32", "real": "Double", "datetime": "DateTime",
              "timespan": "TimeSpan", "bool": "Boolean"}
NUMERIC = ("long", "int", "real")
TIMESPAN_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
STRING_OPS = ("has", "contains", "startswith", "endswith")
TABULAR_UNSUPPORTED = ("join", "lookup", "union", "parse", "parse-where", "parse-kv", "mv-expand", "mv-apply",
                       "make-series", "render", "evaluate", "as", "getschema", "sample", "sample-distinct",
                       "serialize", "invoke", "search", "find", "project-away", "project-rename", "project-keep",
                       "project-reorder", "extend-columns", "top-nested", "top-hitters", "fork", "facet", "partition",
                       "scan", "reduce", "consume", "externaldata", "print", "range", "datatable", "let", "materialize")


class KqlError(ValueError):
    """kind: "syntax", "semantic" or "unsupported"."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def _where(text, pos):
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return "line %d, position %d" % (line, column)


class Token:
    __slots__ = ("kind", "value", "pos", "end")

    def __init__(self, kind, value, pos, end):
        self.kind, self.value, self.pos, self.end = kind, value, pos, end

    def __repr__(self):
        return "Token(%s, %r)" % (self.kind, self.value)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PREFIX = re.compile(r"[hH]?@?(?=['\"])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SUFFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_TWO_CHAR = ("==", "!=", "=~", "!~", "<=", ">=", "<>")
_NEGATABLE = ("has", "contains", "startswith", "endswith", "has_cs", "contains_cs", "startswith_cs",
              "endswith_cs", "in", "between", "hasprefix", "hassuffix", "has_any", "has_all", "matches")


class Tokenizer:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, kind, message, pos):
        if kind == "syntax":
            raise KqlError(kind, "Syntax error: a recognition error occurred at %s: %s" % (_where(self.text, pos),
                                                                                           message))
        raise KqlError(kind, "Unsupported by the emulator's KQL subset: %s (%s)" % (message, _where(self.text, pos)))

    def tokens(self):
        out = []
        while True:
            token = self._next()
            out.append(token)
            if token.kind == "eof":
                return out

    def _skip(self):
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n":
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            else:
                return

    def _next(self):
        self._skip()
        text, start = self.text, self.pos
        if start >= len(text):
            return Token("eof", None, start, start)
        char = text[start]
        if text.startswith("```", start):
            self.error("unsupported", "multi-line string literals", start)
        prefix = _PREFIX.match(text, start)
        if prefix:
            return self._string(start, prefix.end(), "@" in prefix.group(0))
        if char.isdigit():
            return self._number(start)
        if char == "!" and start + 1 < len(text) and (text[start + 1].isalpha() or text[start + 1] == "_"):
            match = _IDENT.match(text, start + 1)
            word = match.group(0)
            end = match.end()
            if word == "in" and text.startswith("~", end):
                end += 1
                word = "in~"
            if word.lower() not in _NEGATABLE and word != "in~":
                self.error("syntax", "'!%s' is not an operator" % word, start)
            self.pos = end
            return Token("op", "!" + word, start, end)
        match = _IDENT.match(text, start)
        if match:
            word, end = match.group(0), match.end()
            if word == "in" and text.startswith("~", end):
                self.pos = end + 1
                return Token("op", "in~", start, end + 1)
            if word == "datetime":
                rest = re.match(r"\s*\(", text[end:])
                if rest:
                    return self._datetime(start, end + rest.end())
            self.pos = end
            return Token("ident", word, start, end)
        for op in _TWO_CHAR:
            if text.startswith(op, start):
                self.pos = start + 2
                return Token("op", op, start, start + 2)
        if char in "|(),<>=":
            self.pos = start + 1
            return Token("op", char, start, start + 1)
        if char.isprintable() and char.isascii():
            self.pos = start + 1
            return Token("other", char, start, start + 1)
        self.error("syntax", "unexpected character %r" % char, start)

    def _string(self, start, quote_at, verbatim):
        text = self.text
        quote = text[quote_at]
        pos = quote_at + 1
        chars = []
        while True:
            if pos >= len(text):
                self.error("syntax", "the string literal that starts here is not closed", start)
            char = text[pos]
            if char in "\r\n":
                self.error("syntax", "a string literal cannot span lines (write \\n inside quotes)", pos)
            if verbatim:
                if char == quote:
                    if text.startswith(quote, pos + 1):
                        chars.append(quote)
                        pos += 2
                        continue
                    break
                chars.append(char)
                pos += 1
                continue
            if char == "\\":
                escaped = text[pos + 1:pos + 2]
                if escaped not in _ESCAPES:
                    self.error("unsupported", "the escape sequence \\%s (the subset knows \\\\, \\', \\\", \\n and "
                               "\\t)" % escaped, pos)
                chars.append(_ESCAPES[escaped])
                pos += 2
                continue
            if char == quote:
                break
            chars.append(char)
            pos += 1
        self.pos = pos + 1
        return Token("string", "".join(chars), start, self.pos)

    def _number(self, start):
        text = self.text
        match = _NUMBER.match(text, start)
        end = match.end()
        number = match.group(0)
        suffix = _SUFFIX.match(text, end)
        if suffix:
            unit = suffix.group(0)
            if unit in TIMESPAN_UNITS:
                self.pos = suffix.end()
                return Token("timespan", float(number) * TIMESPAN_UNITS[unit], start, self.pos)
            if unit in ("microsecond", "microseconds", "tick", "ticks", "min", "sec", "hr", "day", "days",
                        "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"):
                self.error("unsupported", "the timespan unit %r (use d, h, m, s or ms)" % unit, end)
            self.error("syntax", "%r is not a number" % (number + unit), start)
        self.pos = end
        value = float(number) if "." in number else int(number)
        return Token("real" if "." in number else "long", value, start, end)

    def _datetime(self, start, inner):
        text = self.text
        close = text.find(")", inner)
        if close < 0:
            self.error("syntax", "datetime( is not closed", start)
        raw = text[inner:close].strip()
        if raw.lower() == "null" or not raw:
            self.error("unsupported", "datetime(%s)" % raw, start)
        try:
            value = parse_iso(raw.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", raw) else raw)
        except ValueError:
            self.error("syntax", "datetime(%s) is not a date and time" % raw, start)
        self.pos = close + 1
        return Token("datetime", value, start, self.pos)


# --- expressions --------------------------------------------------------------------------------------------

class Expr:
    """A typed scalar expression: fn(row) -> value, and its Kusto type."""

    def __init__(self, fn, type_, name=None, const=False):
        self.fn, self.type, self.name, self.const = fn, type_, name, const


def _is_alnum(char):
    return char.isascii() and char.isalnum()


def has_term(hay, needle, case_sensitive=False):
    """Kusto's `has`: the needle occurs as whole terms, a term being a run of ASCII letters and digits."""
    if not needle:
        return False
    if not case_sensitive:
        hay, needle = hay.lower(), needle.lower()
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        left_ok = not _is_alnum(needle[0]) or start == 0 or not _is_alnum(hay[start - 1])
        right_ok = not _is_alnum(needle[-1]) or end == len(hay) or not _is_alnum(hay[end])
        if left_ok and right_ok:
            return True
        start = hay.find(needle, start + 1)
    return False


def _string_op(op):
    negate = op.startswith("!")
    base = op.lstrip("!")
    case_sensitive = base.endswith("_cs")
    base = base[:-3] if case_sensitive else base

    def test(hay, needle):
        if not case_sensitive and base != "has":
            hay, needle = hay.lower(), needle.lower()
        if base == "has":
            result = has_term(hay, needle, case_sensitive)
        elif base == "contains":
            result = needle in hay
        elif base == "startswith":
            result = hay.startswith(needle)
        else:
            result = hay.endswith(needle)
        return not result if negate else result
    return test


def _and(x, y):
    """Kusto's three-valued logic: null (None) where a comparison met a null."""
    if x is False or y is False:
        return False
    return None if x is None or y is None else True


def _or(x, y):
    if x is True or y is True:
        return True
    return None if x is None or y is None else False


def _not(x):
    return None if x is None else not x


def _comparable(left, right):
    if left in NUMERIC and right in NUMERIC:
        return True
    return left == right


def fmt_timespan(seconds):
    """A timespan as Kusto writes it: [d.]hh:mm:ss[.fffffff]."""
    negative = seconds < 0
    ticks = int(round(abs(seconds) * 10 ** 7))
    days, ticks = divmod(ticks, 86400 * 10 ** 7)
    hours, ticks = divmod(ticks, 3600 * 10 ** 7)
    minutes, ticks = divmod(ticks, 60 * 10 ** 7)
    secs, ticks = divmod(ticks, 10 ** 7)
    text = "%02d:%02d:%02d" % (hours, minutes, secs)
    if ticks:
        text += ".%07d" % ticks
    if days:
        text = "%d.%s" % (days, text)
    return ("-" if negative else "") + text


class Parser:
    """Parses and type-checks in one pass: each tabular operator is checked against the schema it receives."""

    def __init__(self, text, schemas, now):
        self.text = text
        self.tokens = Tokenizer(text).tokens()
        self.index = 0
        self.schemas = schemas
        self.now = now
        self.times = []          # every point in time the query names (ago(), datetime()): for the 30-day rule
        self.operator = None     # the tabular operator being checked, for messages

    # --- token helpers ---
    def peek(self, offset=0):
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def at(self, kind, value=None):
        token = self.peek()
        return token.kind == kind and (value is None or token.value == value)

    def at_word(self, *words):
        token = self.peek()
        return token.kind == "ident" and token.value in words

    def expect(self, kind, value=None, what=None):
        token = self.peek()
        if not self.at(kind, value):
            wanted = what or (repr(value) if value is not None else kind)
            self.syntax("expected %s, found %s" % (wanted, self.describe(token)), token)
        return self.take()

    def describe(self, token):
        if token.kind == "eof":
            return "the end of the query"
        return repr(self.text[token.pos:token.end])

    def syntax(self, message, token=None):
        token = token or self.peek()
        raise KqlError("syntax", "Syntax error: a recognition error occurred at %s: %s"
                       % (_where(self.text, token.pos), message))

    def unsupported(self, message, token=None):
        token = token or self.peek()
        raise KqlError("unsupported", "Unsupported by the emulator's KQL subset: %s (%s)"
                       % (message, _where(self.text, token.pos)))

    def semantic(self, message):
        prefix = "'%s' operator: " % self.operator if self.operator else ""
        raise KqlError("semantic", "Semantic error: %s%s" % (prefix, message))

    # --- query ---
    def parse(self):
        if self.at_word("let", "set", "declare", "alias", "pattern", "restrict"):
            self.unsupported("%s statements" % self.peek().value)
        source, schema = self.source()
        source_schema = list(schema)
        steps = []
        while self.at("op", "|"):
            self.take()
            step, schema = self.tabular(schema)
            steps.append(step)
        token = self.peek()
        if token.kind == "other" and token.value == ";":
            self.unsupported("';' (more than one statement)", token)
        if token.kind != "eof":
            self.syntax("unexpected %s" % self.describe(token), token)
        return Plan(source, steps, schema, self.times, source_schema)

    def source(self):
        token = self.peek()
        if token.kind != "ident":
            self.syntax("a query starts with a table name, found %s" % self.describe(token), token)
        if token.value == "union":
            self.take()
            if self.at("ident") and self.peek(1).kind == "op" and self.peek(1).value == "=":
                self.unsupported("union parameters (%s=)" % self.peek().value)
            names = [self.table_name()]
            while self.at("op", ","):
                self.take()
                names.append(self.table_name())
            schema = []
            for name in names:
                for column, type_ in self.schemas[name]:
                    known = dict(schema)
                    if column not in known:
                        schema.append((column, type_))
                    elif known[column] != type_:
                        self.unsupported("union of tables whose column %s has different types" % column, token)
            return ("union", names), schema
        if token.value.lower() in TABULAR_UNSUPPORTED or token.value in ("search", "find", "print", "range"):
            self.unsupported("the '%s' operator" % token.value, token)
        name = self.table_name()
        return ("table", [name]), list(self.schemas[name])

    def table_name(self):
        token = self.expect("ident", what="a table name")
        if token.value not in self.schemas:
            raise KqlError("semantic", "Semantic error: Failed to resolve table or column expression named '%s'"
                           % token.value)
        if self.at("op", "("):
            self.unsupported("function calls on tables", self.peek())
        return token.value

    def operator_name(self):
        token = self.peek()
        if token.kind != "ident":
            self.syntax("expected a tabular operator after '|', found %s" % self.describe(token), token)
        self.take()
        name = token.value
        while self.at("other", "-") and self.peek().pos == self.tokens[self.index - 1].end and \
                self.peek(1).kind == "ident" and self.peek(1).pos == self.peek().end:
            self.take()
            name += "-" + self.take().value
        return token, name

    def tabular(self, schema):
        token, name = self.operator_name()
        self.operator = name
        if name == "where" or name == "filter":
            predicate = self.expression(schema)
            self.require_bool(predicate, "the predicate")
            return ("where", predicate), schema
        if name == "project":
            return self.project(schema, extend=False)
        if name == "extend":
            return self.project(schema, extend=True)
        if name == "distinct":
            return self.distinct(schema)
        if name == "summarize":
            return self.summarize(schema)
        if name in ("take", "limit"):
            return ("take", self.count_literal()), schema
        if name == "top":
            count = self.count_literal()
            if not self.at_word("by"):
                self.syntax("expected 'by' after top %d" % count)
            self.take()
            keys = self.sort_keys(schema)
            return ("top", count, keys), schema
        if name in ("order", "sort"):
            if not self.at_word("by"):
                self.syntax("expected 'by' after %s" % name)
            self.take()
            return ("sort", self.sort_keys(schema)), schema
        if name == "count":
            return ("count",), [("Count", "long")]
        if name in TABULAR_UNSUPPORTED or name in ("search", "find"):
            self.unsupported("the '%s' operator" % name, token)
        self.syntax("'%s' is not a tabular operator" % name, token)

    def count_literal(self):
        token = self.peek()
        if token.kind != "long":
            if token.kind in ("real", "ident", "op", "other"):
                self.unsupported("a row count that is not a whole number literal", token)
            self.syntax("expected a row count, found %s" % self.describe(token), token)
        self.take()
        return token.value

    def require_bool(self, expr, what):
        if expr.type != "bool":
            self.semantic("%s must be a boolean expression, not %s" % (what, expr.type))

    def column_name(self, what="a column name"):
        token = self.peek()
        if token.kind != "ident":
            if token.kind == "other" and token.value == "*":
                self.unsupported("'*' in %s" % self.operator, token)
            if token.kind == "other" and token.value == "[":
                self.unsupported("bracketed names ['...']", token)
            self.syntax("expected %s, found %s" % (what, self.describe(token)), token)
        return self.take()

    def project(self, schema, extend):
        items = []
        names = []
        while True:
            name_token = self.column_name()
            if self.at("op", "="):
                self.take()
                expr = self.expression(schema)
                name = name_token.value
            elif extend:
                self.unsupported("extend without a column name (write extend Name = expression)", name_token)
            else:
                self.index -= 1
                expr = self.expression(schema)
                if expr.name is None:
                    self.unsupported("a projected expression without a name (write project Name = expression)",
                                     name_token)
                name = expr.name
            if name in names:
                self.semantic("the column %s is named twice" % name)
            names.append(name)
            items.append((name, expr))
            if not self.at("op", ","):
                break
            self.take()
        if extend:
            out = list(schema)
            for name, expr in items:
                replaced = [i for i, (c, _t) in enumerate(out) if c == name]
                if replaced:
                    out[replaced[0]] = (name, expr.type)
                else:
                    out.append((name, expr.type))
            return ("extend", items), out
        return ("project", items), [(name, expr.type) for name, expr in items]

    def distinct(self, schema):
        columns = []
        while True:
            token = self.column_name()
            self.index -= 1
            expr = self.expression(schema)
            if expr.name is None:
                self.unsupported("distinct on an expression (name columns only)", token)
            columns.append((expr.name, expr))
            if not self.at("op", ","):
                break
            self.take()
        return ("distinct", columns), [(name, expr.type) for name, expr in columns]

    AGGREGATES = ("count", "countif", "dcount", "min", "max", "sum")

    def summarize(self, schema):
        aggregates = []
        if not self.at_word("by"):
            while True:
                aggregates.append(self.aggregate(schema))
                if not self.at("op", ","):
                    break
                self.take()
        keys = []
        if self.at_word("by"):
            self.take()
            while True:
                keys.append(self.group_key(schema))
                if not self.at("op", ","):
                    break
                self.take()
        if not aggregates and not keys:
            self.syntax("summarize needs an aggregation or a 'by' clause")
        names = [k[0] for k in keys] + [a[0] for a in aggregates]
        for name in names:
            if names.count(name) > 1:
                self.semantic("the column %s is named twice" % name)
        out = [(name, expr.type) for name, expr in keys] + [(name, type_) for name, _f, _e, type_ in aggregates]
        return ("summarize", keys, aggregates), out

    def aggregate(self, schema):
        name = None
        if self.at("ident") and self.peek(1).kind == "op" and self.peek(1).value == "=":
            name = self.take().value
            self.take()
        token = self.peek()
        if token.kind != "ident" or not (self.peek(1).kind == "op" and self.peek(1).value == "("):
            self.syntax("expected an aggregation function such as count(), found %s" % self.describe(token), token)
        function = token.value
        if function not in self.AGGREGATES:
            self.unsupported("the aggregation function %s()" % function, token)
        self.take()
        self.take()
        argument = None
        if function == "count":
            if not self.at("op", ")"):
                self.unsupported("count() with an argument (use countif(predicate) or dcount(column))")
        else:
            argument = self.expression(schema)
            if self.at("op", ","):
                self.unsupported("%s() with more than one argument" % function)
        self.expect("op", ")")
        if function == "count":
            return (name or "count_", "count", None, "long")
        if function == "countif":
            self.require_bool(argument, "countif()'s argument")
            return (name or "countif_", "countif", argument, "long")
        default = "%s_%s" % (function, argument.name) if argument.name else "%s_" % function
        if function == "dcount":
            return (name or default, "dcount", argument, "long")
        if function == "sum":
            if argument.type not in NUMERIC:
                self.semantic("sum() needs a number, not %s" % argument.type)
            return (name or default, "sum", argument, "real" if argument.type == "real" else "long")
        if argument.type == "bool":
            self.semantic("%s() needs a number, a date or a string, not bool" % function)
        return (name or default, function, argument, argument.type)

    def group_key(self, schema):
        token = self.peek()
        name = None
        if self.at("ident") and self.peek(1).kind == "op" and self.peek(1).value == "=":
            name = self.take().value
            self.take()
        expr = self.expression(schema)
        if name is None:
            name = expr.name
        if name is None:
            self.unsupported("a 'by' expression without a name (write by Name = expression)", token)
        return (name, expr)

    def sort_keys(self, schema):
        keys = []
        while True:
            expr = self.expression(schema)
            descending = True   # Kusto sorts descending unless told otherwise
            if self.at_word("asc", "desc"):
                descending = self.take().value == "desc"
            if self.at_word("nulls"):
                self.unsupported("nulls first/last")
            keys.append((expr, descending))
            if not self.at("op", ","):
                break
            self.take()
        return keys

    # --- scalar expressions ---
    def expression(self, schema):
        return self.or_expr(schema)

    def or_expr(self, schema):
        left = self.and_expr(schema)
        while self.at_word("or"):
            self.take()
            right = self.and_expr(schema)
            self.require_bool(left, "the left side of 'or'")
            self.require_bool(right, "the right side of 'or'")
            left = Expr(lambda row, a=left.fn, b=right.fn: _or(a(row), b(row)), "bool")
        return left

    def and_expr(self, schema):
        left = self.comparison(schema)
        while self.at_word("and"):
            self.take()
            right = self.comparison(schema)
            self.require_bool(left, "the left side of 'and'")
            self.require_bool(right, "the right side of 'and'")
            left = Expr(lambda row, a=left.fn, b=right.fn: _and(a(row), b(row)), "bool")
        return left

    def comparison(self, schema):
        left = self.primary(schema)
        token = self.peek()
        op = token.value if token.kind in ("op", "ident") else None
        if token.kind == "op" and op in ("==", "!=", "<", ">", "<=", ">="):
            self.take()
            right = self.primary(schema)
            return self.compare(op, left, right)
        if token.kind == "op" and op in ("=~", "!~"):
            self.take()
            right = self.primary(schema)
            self.require_strings(op, left, right)
            if op == "=~":
                return Expr(lambda row, a=left.fn, b=right.fn: a(row).lower() == b(row).lower(), "bool")
            return Expr(lambda row, a=left.fn, b=right.fn: a(row).lower() != b(row).lower(), "bool")
        if token.kind == "op" and op == "<>":
            self.unsupported("the '<>' operator (use !=)", token)
        if token.kind == "op" and op == "=":
            self.syntax("'=' is not a comparison (use ==)", token)
        if token.kind == "op" and op in ("in~", "!in~", "!in") or token.kind == "ident" and op == "in":
            self.take()
            return self.membership(op, left, schema)
        if token.kind == "op" and op.startswith("!") or token.kind == "ident" and op in _NEGATABLE:
            base = op.lstrip("!")
            plain = base[:-3] if base.endswith("_cs") else base
            if plain not in STRING_OPS:
                self.unsupported("the '%s' operator" % op, token)
            self.take()
            right = self.primary(schema)
            self.require_strings(op, left, right)
            test = _string_op(op)
            return Expr(lambda row, a=left.fn, b=right.fn: test(a(row), b(row)), "bool")
        if token.kind == "ident" and op in ("matches", "like", "regex", "hasprefix", "hassuffix", "has_any"):
            self.unsupported("the '%s' operator" % op, token)
        if token.kind == "other" and token.value in "+-*/%":
            self.unsupported("arithmetic ('%s')" % token.value, token)
        return left

    def require_strings(self, op, left, right):
        if left.type != "string" or right.type != "string":
            self.semantic("the '%s' operator needs strings on both sides, not %s and %s"
                          % (op, left.type, right.type))

    def compare(self, op, left, right):
        if not _comparable(left.type, right.type):
            self.semantic("Cannot compare values of types %s and %s. Try adding explicit casts"
                          % (left.type, right.type))
        if op in ("<", ">", "<=", ">=") and left.type in ("string", "bool"):
            self.unsupported("'%s' on %s values" % (op, left.type))
        python = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
                  ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[op]

        def fn(row, a=left.fn, b=right.fn):
            x, y = a(row), b(row)
            if x is None or y is None:
                return None   # null: neither true nor false, so where drops the row and not() keeps it null
            return python(x, y)
        return Expr(fn, "bool")

    def membership(self, op, left, schema):
        self.expect("op", "(", "'(' after %s" % op)
        values = []
        while True:
            value = self.primary(schema)
            values.append(value)
            if not self.at("op", ","):
                break
            self.take()
        self.expect("op", ")")
        case_insensitive = op.endswith("~")
        for value in values:
            if case_insensitive and (left.type != "string" or value.type != "string"):
                self.semantic("the '%s' operator needs strings, not %s and %s" % (op, left.type, value.type))
            if not _comparable(left.type, value.type):
                self.semantic("Cannot compare values of types %s and %s. Try adding explicit casts"
                              % (left.type, value.type))
        negate = op.startswith("!")
        fns = [v.fn for v in values]

        def fn(row, a=left.fn):
            x = a(row)
            if x is None:
                return None
            if case_insensitive:
                found = any(x.lower() == f(row).lower() for f in fns)
            else:
                found = any(x == f(row) for f in fns)
            return not found if negate else found
        return Expr(fn, "bool")

    def primary(self, schema):
        expr = self.atom(schema)
        token = self.peek()
        if token.kind == "other" and token.value in "+-*/%":
            self.unsupported("arithmetic ('%s')" % token.value, token)
        return expr

    def atom(self, schema):
        token = self.peek()
        if token.kind == "string":
            self.take()
            if self.at("string"):
                self.unsupported("adjacent string literals (concatenation)", self.peek())
            value = token.value
            return Expr(lambda row, v=value: v, "string", const=True)
        if token.kind in ("long", "real"):
            self.take()
            value = token.value
            return Expr(lambda row, v=value: v, token.kind, const=True)
        if token.kind == "timespan":
            self.take()
            value = token.value
            return Expr(lambda row, v=value: v, "timespan", const=True)
        if token.kind == "datetime":
            self.take()
            self.times.append(token.value)
            value = token.value
            return Expr(lambda row, v=value: v, "datetime", const=True)
        if token.kind == "op" and token.value == "(":
            self.take()
            inner = self.expression(schema)
            self.expect("op", ")")
            return Expr(inner.fn, inner.type, const=inner.const)
        if token.kind == "ident":
            if self.peek(1).kind == "op" and self.peek(1).value == "(":
                return self.call(schema)
            self.take()
            if token.value in ("true", "false"):
                value = token.value == "true"
                return Expr(lambda row, v=value: v, "bool")
            types = dict(schema)
            if token.value not in types:
                if token.value in ("and", "or", "by", "asc", "desc"):
                    self.syntax("unexpected %s" % self.describe(token), token)
                self.semantic("Failed to resolve scalar expression named '%s'" % token.value)
            column = token.value
            return Expr(lambda row, c=column: row.get(c), types[column], name=column)
        if token.kind == "other" and token.value in "-+":
            self.unsupported("arithmetic and signed numbers ('%s')" % token.value, token)
        if token.kind == "other" and token.value == "[":
            self.unsupported("dynamic values and bracketed names", token)
        if token.kind == "other" and token.value == "!":
            self.unsupported("'!' as an operator (use not())", token)
        if token.kind == "other":
            self.unsupported("'%s'" % token.value, token)
        self.syntax("expected a value, found %s" % self.describe(token), token)

    FUNCTIONS = ("ago", "now", "not", "isempty", "isnotempty", "isnull", "isnotnull", "tolower", "toupper",
                 "strlen", "bin")

    def call(self, schema):
        token = self.take()
        name = token.value
        self.take()  # (
        if name not in self.FUNCTIONS:
            self.unsupported("the function %s()" % name, token)
        args = []
        if not self.at("op", ")"):
            while True:
                args.append(self.expression(schema))
                if not self.at("op", ","):
                    break
                self.take()
        self.expect("op", ")")

        def arity(count):
            if len(args) != count:
                self.semantic("%s() takes %d argument%s, got %d" % (name, count, "" if count == 1 else "s",
                                                                    len(args)))
        if name == "now":
            if args:
                self.unsupported("now() with an offset", token)
            now = self.now
            return Expr(lambda row: now, "datetime", const=True)
        if name == "ago":
            arity(1)
            if args[0].type != "timespan":
                self.semantic("ago() needs a timespan such as 7d, not %s" % args[0].type)
            if not args[0].const:
                self.unsupported("ago() of anything but a timespan literal", token)
            when = self.now - args[0].fn({})
            self.times.append(when)
            return Expr(lambda row, w=when: w, "datetime", const=True)
        if name == "not":
            arity(1)
            self.require_bool(args[0], "not()'s argument")
            return Expr(lambda row, a=args[0].fn: _not(a(row)), "bool")
        if name in ("isempty", "isnotempty", "isnull", "isnotnull"):
            arity(1)
            arg = args[0]
            if name in ("isempty", "isnotempty"):
                empty = _is_empty_string if arg.type == "string" else _is_null
            else:
                empty = _is_null
            if name.startswith("isnot"):
                return Expr(lambda row, a=arg.fn, e=empty: not e(a(row)), "bool")
            return Expr(lambda row, a=arg.fn, e=empty: e(a(row)), "bool")
        if name in ("tolower", "toupper", "strlen"):
            arity(1)
            if args[0].type != "string":
                self.unsupported("%s() of a %s (the subset converts no types)" % (name, args[0].type), token)
            if name == "strlen":
                return Expr(lambda row, a=args[0].fn: len(a(row)), "long")
            method = str.lower if name == "tolower" else str.upper
            return Expr(lambda row, a=args[0].fn, m=method: m(a(row)), "string")
        # bin(value, size): rounds down to a multiple of size
        arity(2)
        value, size = args
        if value.type == "datetime" and size.type == "timespan" or value.type in NUMERIC and size.type in NUMERIC:
            if not size.const:
                self.unsupported("bin() by anything but a literal size", token)
            step = size.fn({})
            if not step or step <= 0:
                self.semantic("bin() needs a positive bin size")

            def binned(row, a=value.fn, s=step):
                x = a(row)
                return None if x is None else math.floor(x / s) * s
            return Expr(binned, value.type, name=value.name)
        self.unsupported("bin() of %s by %s" % (value.type, size.type), token)


class Plan:
    """A checked query, ready to run over tables (lists of row dicts)."""

    def __init__(self, source, steps, schema, times, source_schema):
        self.source = source
        self.source_schema = source_schema
        self.steps = steps
        self.schema = schema
        self.times = times

    @property
    def earliest(self):
        """The earliest point in time the query names, or None."""
        return min(self.times) if self.times else None

    def run(self, tables):
        """The result rows (dicts of the output columns). A column a row leaves out is an empty string (string
        columns) or null (the others), as a union's rows lack the other tables' columns."""
        names = self.source[1]
        rows = []
        defaults = {c: ("" if t == "string" else None) for c, t in self.source_schema}
        for name in names:
            for row in tables.get(name) or []:
                full = dict(defaults)
                full.update(row)
                rows.append(full)
        for step in self.steps:
            rows = _STEPS[step[0]](rows, *step[1:])
        columns = [c for c, _t in self.schema]
        return [{c: row.get(c) for c in columns} for row in rows]


def _where_step(rows, predicate):
    return [row for row in rows if predicate.fn(row) is True]


def _project_step(rows, items):
    return [{name: expr.fn(row) for name, expr in items} for row in rows]


def _extend_step(rows, items):
    out = []
    for row in rows:
        new = dict(row)
        for name, expr in items:
            new[name] = expr.fn(row)
        out.append(new)
    return out


def _distinct_step(rows, columns):
    seen, out = set(), []
    for row in rows:
        values = tuple(expr.fn(row) for _n, expr in columns)
        if values not in seen:
            seen.add(values)
            out.append({name: value for (name, _e), value in zip(columns, values)})
    return out


def _summarize_step(rows, keys, aggregates):
    groups, order = {}, []
    for row in rows:
        key = tuple(expr.fn(row) for _n, expr in keys)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(row)
    if not keys and not order:
        groups[()] = []
        order.append(())
    out = []
    for key in order:
        members = groups[key]
        result = {name: value for (name, _e), value in zip(keys, key)}
        for name, function, argument, _type in aggregates:
            if function == "count":
                result[name] = len(members)
            elif function == "countif":
                result[name] = sum(1 for r in members if argument.fn(r) is True)
            else:
                values = [argument.fn(r) for r in members]
                values = [v for v in values if v is not None and v != ""] if argument.type == "string" \
                    else [v for v in values if v is not None]
                if function == "dcount":
                    result[name] = len(set(values))
                elif function == "sum":
                    result[name] = sum(values) if values else None
                elif function == "min":
                    result[name] = min(values) if values else (None if argument.type != "string" else "")
                else:
                    result[name] = max(values) if values else (None if argument.type != "string" else "")
        out.append(result)
    return out


def _take_step(rows, count):
    return rows[:count]


def _sort_step(rows, keys):
    """Stable, key by key from the last; nulls first when ascending, last when descending (Kusto's defaults)."""
    out = list(rows)
    for expr, descending in reversed(keys):
        present = [r for r in out if expr.fn(r) is not None]
        missing = [r for r in out if expr.fn(r) is None]
        present.sort(key=lambda r, f=expr.fn: f(r), reverse=descending)
        out = present + missing if descending else missing + present
    return out


def _top_step(rows, count, keys):
    return _sort_step(rows, keys)[:count]


def _count_step(rows):
    return [{"Count": len(rows)}]


_STEPS = {"where": _where_step, "project": _project_step, "extend": _extend_step, "distinct": _distinct_step,
          "summarize": _summarize_step, "take": _take_step, "sort": _sort_step, "top": _top_step,
          "count": _count_step}


def compile_query(text, schemas, now):
    """Parse and check `text` against `schemas` ({table: [(column, type), ...]}) at the instant `now` (epoch
    seconds; ago() and now() use it). Returns a Plan; raises KqlError."""
    if not isinstance(text, str) or not text.strip():
        raise KqlError("syntax", "Syntax error: the query is empty")
    return Parser(text, schemas, now).parse()


def schema_json(schema):
    """The API's Schema: [{"Name", "Type"}]."""
    return [{"Name": name, "Type": TYPE_NAMES[type_]} for name, type_ in schema]


def quote(value):
    """A string literal for `value` that a KQL parser reads back as exactly `value` (single quotes, backslash
    escapes). For tests and for callers that build queries; untrusted text must only ever enter a query so."""
    out = []
    for char in value:
        if char in ("\\", "'"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            raise ValueError("a carriage return cannot be written in the subset's string literals")
        else:
            out.append(char)
    return "'%s'" % "".join(out)


def _is_null(value):
    return value is None


def _is_empty_string(value):
    return value is None or value == ""
