"""A YAML loader for eval files that keeps line numbers and refuses anything but plain data.

PyYAML's own constructors lose positions and silently keep the last of two equal keys, so the
document is composed into a node tree (libyaml's C parser when available: it keeps marks and is
several times faster) and turned into Python values here, recording the 1-based line of every
value and every key by its field path, e.g. ``("cases", 1, "expect", 0)``.

Numbers follow YAML 1.2's core schema, as editors (and the JSON Schema) read them, not PyYAML's
YAML 1.1 rules: ``1e-9``, ``1E3``, ``.5``, ``+1``, ``0o17`` and ``0x1F`` are numbers, ``1_000``
and ``1:30`` are text, ``017`` is 17 (not octal 15). A float keeps the text it was written as
(:class:`YamlFloat`), so exact checks read ``0.1`` as the decimal 0.1 rather than the nearest
binary float. Booleans keep PyYAML's reading (``yes``/``no``/``on``/``off`` too).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]

_STD = "tag:yaml.org,2002:"
# Plain-data tags only: anything else (``!!python/object``, ``!!set``, custom ``!foo``) either
# builds objects or means something the eval format has no use for.
_SCALAR_TAGS = {f"{_STD}{t}" for t in ("str", "int", "float", "bool", "null")}
_MAX_VALUES = 1_000_000  # bounds alias expansion ("billion laughs") long before memory does
_INT, _FLOAT = f"{_STD}int", f"{_STD}float"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution). The first
# characters index PyYAML's implicit resolvers.
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_CORE_RESOLVERS = ((_INT, re.compile(rf"(?:{_CORE_INT.pattern})\Z"), "-+0123456789"),
                   (_FLOAT, re.compile(rf"(?:{_CORE_FLOAT.pattern})\Z"), "-+.0123456789"))
_SPECIAL = {".inf": "inf", ".nan": "nan"}


class YamlFloat(float):
    """A float read from YAML that remembers the text it was written as.

    It is a float everywhere (``temperature: 0.5`` validates as one); exact consumers read
    :attr:`text` instead: ``0.1`` is the decimal 0.1 there, and ``1e-9`` shows as ``1e-9``.

    Attributes:
        text: The scalar as written in the file, e.g. ``1e-9``, ``.5``, ``-0.0``, ``.inf``.

    """

    text: str

    def __new__(cls, text: str) -> YamlFloat:
        """Read ``text``, a YAML 1.2 core-schema float, keeping the text."""
        body = text.lstrip("+-")
        self = super().__new__(cls, text[:len(text) - len(body)]
                               + _SPECIAL.get(body.lower(), body))
        self.text = text
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (YamlFloat, (self.text,))


@dataclass
class YamlProblem:
    """A problem found while reading the YAML itself (before any schema validation)."""

    line: int | None
    field: str
    message: str


@dataclass
class LoadedYaml:
    """A parsed document and where each of its parts came from.

    Attributes:
        data: The plain Python value (dicts, lists, str, int, :class:`YamlFloat`, bool, None).
        lines: Field path -> 1-based line where that value starts.
        key_lines: Field path -> 1-based line of the mapping key that introduced it.
        styles: Field path -> style of a quoted or block scalar: ``|`` (literal block),
            ``>`` (folded block), ``'`` or ``"``; plain scalars are absent.
        problems: Duplicate keys, forbidden tags, ...; ``data`` is unreliable when non-empty.

    """

    data: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)
    key_lines: dict[Path_, int] = field(default_factory=dict)
    styles: dict[Path_, str] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def line_of(self, path: Path_, *, key: bool = False) -> int | None:
        """Find the line of ``path`` (its key when ``key``), else of its nearest parent."""
        if key and path in self.key_lines:
            return self.key_lines[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def text_line(self, path: Path_) -> int | None:
        """The 1-based line where the text of the scalar at ``path`` starts.

        That is the line after the ``|`` or ``>`` of a block scalar, else the value's own line.
        In a literal block (``|``) line ``n`` of the text is on line ``text_line + n - 1``.
        """
        line = self.lines.get(path)
        if line is not None and self.styles.get(path) in ("|", ">"):
            return line + 1
        return line


def format_path(path: Path_) -> str:
    """``("cases", 1, "expect", 0)`` -> ``"cases[1].expect[0]"``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document into plain data with line numbers.

    Raises:
        yaml.YAMLError: the text is not valid YAML (the caller turns it into a spec issue).

    """
    root = yaml.compose(text, Loader=core_schema(_Loader))
    out = LoadedYaml()
    if root is not None:
        out.data = _Builder(out).build(root, ())
    return out


@functools.cache
def core_schema(base: Any) -> Any:
    """``base`` (a PyYAML loader or dumper class) with YAML 1.2 core-schema ints and floats.

    A dumper made so quotes the strings that YAML 1.2 would read as numbers (``"1e3"``).
    """
    loader: Any = type(f"Core{base.__name__}", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in base.yaml_implicit_resolvers.items()}
    for tag, regex, first in _CORE_RESOLVERS:
        loader.add_implicit_resolver(tag, regex, list(first))
    return loader


def _core_number(tag: str, text: str) -> int | float:
    """Read a YAML 1.2 core-schema int or float; ValueError when ``text`` is not one."""
    if tag == _FLOAT and _CORE_FLOAT.fullmatch(text):
        return YamlFloat(text)
    if not _CORE_INT.fullmatch(text):
        raise ValueError(f"not a YAML 1.2 {tag.removeprefix(_STD)}: {text!r}")
    if text.startswith(("0o", "0x")):
        value = int(text[2:], 8 if text[1] == "o" else 16)
    else:
        value = int(text)  # ValueError beyond 4300 digits (Python's int/str limit)
    return value if tag == _INT else YamlFloat(str(value))  # `!!float 0x10`


class _Builder:
    def __init__(self, out: LoadedYaml) -> None:
        self.out = out
        self.count = 0
        self.active: set[int] = set()
        self.scalars = SafeConstructor()
        self.too_big = False

    def problem(self, node: Node, path: Path_, message: str) -> None:
        self.out.problems.append(YamlProblem(node.start_mark.line + 1, format_path(path), message))

    def build(self, node: Node, path: Path_) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            if not self.too_big:
                self.too_big = True
                self.problem(node, path, f"the document expands to more than {_MAX_VALUES} "
                                         "values (through aliases?); split it into smaller files")
            return None
        self.out.lines[path] = node.start_mark.line + 1
        if id(node) in self.active:
            self.problem(node, path, "a YAML alias refers to a value that contains it (the anchor "
                                     "is here); eval files cannot hold recursive data")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        expected = f"{_STD}map" if isinstance(node, MappingNode) else f"{_STD}seq"
        if node.tag != expected:
            self.forbidden_tag(node, path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def forbidden_tag(self, node: Node, path: Path_) -> None:
        self.problem(node, path, f"YAML tags are not allowed: `{_tag_name(node.tag)}` (eval files "
                                 "hold plain data: strings, numbers, booleans, lists and "
                                 "mappings). Remove the tag, or quote the value if it is text.")

    def scalar(self, node: ScalarNode, path: Path_) -> Any:
        if node.style:  # None (pure-Python loader) or "" (libyaml) for plain scalars
            self.out.styles[path] = node.style
        if node.tag == f"{_STD}timestamp":
            # Nothing in an eval file is a date: keep `id: 2024-01-01` as the text it looks like
            # (YAML 1.2, which editors use, reads it as a string too).
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.forbidden_tag(node, path)
            return None
        try:
            if node.tag in (_INT, _FLOAT):
                return _core_number(node.tag, node.value)
            return self.scalars.construct_object(node)
        except Exception:  # e.g. `!!int abc`: a data error in the file, not a crash
            digits = node.value.lstrip("+-")
            if node.tag == _INT and digits.isdigit() and len(digits) > 60:
                self.problem(node, path, f"a whole number with {len(digits)} digits is far "
                                         "larger than any field allows; write a small number")
                return None
            shown = (repr(node.value) if len(node.value) <= 60
                     else f"{node.value[:20]!r}... ({len(node.value)} characters)")
            self.problem(node, path, f"cannot read {shown} as `{_tag_name(node.tag)}`; "
                                     "remove the tag or fix the value")
            return None

    def key(self, node: Node, path: Path_) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag not in (*_SCALAR_TAGS, f"{_STD}timestamp"):
            self.problem(node, path, "mapping keys must be plain text, "
                                     f"got a {type(node).__name__.removesuffix('Node').lower()}")
            return None
        # The source text, not YAML 1.1's reading of it: `on:` or `1:` are names here, not
        # True or 1 (the schema then reports them as unknown keys by the name the user wrote).
        return str(node.value)

    def mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: dict[str, int] = {}
        merged: list[tuple[Node, Node]] = []
        pairs: list[tuple[Node, Node]] = []
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.tag == f"{_STD}merge":
                sources = v.value if isinstance(v, SequenceNode) else [v]
                for src in sources:
                    if isinstance(src, MappingNode):
                        merged.extend(src.value)
                    else:
                        self.problem(v, path, "`<<` merges mappings only (`<<: *anchor`)")
            else:
                pairs.append((k, v))
        for k, v in merged:  # merged keys first, so the mapping's own keys override them
            name = self.key(k, path)
            if name is not None and name not in result:
                self.out.key_lines[(*path, name)] = k.start_mark.line + 1
                result[name] = self.build(v, (*path, name))
        for k, v in pairs:
            name = self.key(k, path)
            if name is None:
                continue
            line = k.start_mark.line + 1
            if name in explicit:
                where = format_path(path) or "the top level"
                self.problem(k, (*path, name),
                             f"duplicate key {name!r} in {where}: first at line "
                             f"{explicit[name]}, again at line {line}. YAML would silently keep "
                             "only the last one; remove or rename one of them.")
                continue
            explicit[name] = line
            sub = (*path, name)
            self.out.key_lines[sub] = line
            self.out.lines.pop(sub, None)  # an override replaces what a merge recorded
            self.out.styles.pop(sub, None)
            result[name] = self.build(v, sub)
        return result
