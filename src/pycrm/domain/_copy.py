"""Copies of validated entities with a few fields replaced, for the bulk paths.

``attrs.evolve`` re-runs every converter and validator of every field, which the bulk paths
need not do: their entities were validated when they were built, and only bookkeeping or
derived fields change. A loop of ``object.__setattr__`` over the fields still costs a call
and a name lookup per field; the function made here is one straight run of slot stores
(the class's own slot descriptors, which a frozen class's ``__setattr__`` does not guard),
written once per class and set of replaced fields.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import attrs

Replacer = Callable[..., Any]

_MADE: dict[tuple[type[Any], tuple[str, ...]], Replacer] = {}


def replacer(cls: type[Any], names: tuple[str, ...]) -> Replacer:
    """``copy(entity, *values)``: a copy of ``entity``, which must be exactly a ``cls``, with
    the fields ``names`` set to ``values`` (in that order) and every other field shared.

    Nothing is checked: the caller vouches for the values. Field names are identifiers
    (attrs makes them attributes), so only they and ``repr``-quoted names reach the code.
    """
    made = _MADE.get((cls, names))
    if made is None:
        made = _MADE[(cls, names)] = _make(cls, names)
    return made


def _make(cls: type[Any], names: tuple[str, ...]) -> Replacer:
    fields = [a.name for a in attrs.fields(cls)]
    unknown = set(names) - set(fields)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "store": object.__setattr__}
    body = ["    c = new(cls)"]
    for index, name in enumerate(fields):
        if not name.isidentifier():  # pragma: no cover - attrs refuses such names
            raise ValueError(f"field name {name!r} is not an identifier")
        value = f"v{names.index(name)}" if name in names else f"e.{name}"
        slot = _slot(cls, name)
        if slot is not None:
            namespace[f"s{index}"] = slot.__set__
            body.append(f"    s{index}(c, {value})")
        else:
            body.append(f"    store(c, {name!r}, {value})")
    params = "".join(f", v{i}" for i in range(len(names)))
    source = f"def copy(e{params}):\n" + "\n".join(body) + "\n    return c\n"
    exec(compile(source, f"<pycrm copy of {cls.__name__}>", "exec"), namespace)
    made: Replacer = namespace["copy"]
    return made


def _slot(cls: type[Any], name: str) -> Any:
    """The slot descriptor holding ``name`` on ``cls``'s instances, if it is one."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None
