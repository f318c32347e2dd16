"""YAML as cards and deck.yaml use it: every value a string as written, no duplicate keys, no aliases.

Plain YAML turns ``id: yes`` into True, ``1.50`` into 1.5 and ``0x1F`` into 31, lets a second ``id:``
win silently, and expands aliases (a few lines can stand for gigabytes). Here scalars stay the text the
author wrote (the reader decides what a value means), and a duplicate key, an anchor or an alias is an
error at its line.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError

from ..errors import quoted

# libyaml's parser is some thirty times faster than the pure-Python one (see bench/README.md).
_BASE = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
MAX_BYTES = 16 << 10  # front matter and deck.yaml: settings, not content
MAX_DEPTH = 16  # nesting of lists and mappings


class _Loader(_BASE):
    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                message = "a key must be a plain word, not a list or mapping"
                raise ConstructorError(None, None, message, key_node.start_mark)
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {quoted(key)}", key_node.start_mark)
            seen[key] = True
        return super().construct_mapping(node, deep=True)


_BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}


def boolean(value) -> bool | None:
    """A yes/no setting as written (``true``/``false``, ``yes``/``no``, any case); None for anything else."""
    return _BOOLEANS.get(value.strip().lower()) if isinstance(value, str) else None


def load(text: str):
    """The document in ``text`` (None when empty); yaml.YAMLError with a mark on anything refused."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise yaml.YAMLError(f"more than {MAX_BYTES:,} bytes of YAML; keep settings short")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check(node, set(), 0)
        return loader.construct_document(node) if node is not None else None
    except RecursionError:  # (the pure-Python parser, without libyaml's own depth limit)
        raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def _check(node, seen: set[int], depth: int) -> None:
    """No node reached twice (an alias) and no deeper nesting than MAX_DEPTH."""
    if id(node) in seen:
        raise ConstructorError(None, None, "YAML aliases and anchors are not allowed here", node.start_mark)
    seen.add(id(node))
    if depth > MAX_DEPTH:
        raise ConstructorError(None, None, f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check(item, seen, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _check(key, seen, depth + 1)
            _check(value, seen, depth + 1)
