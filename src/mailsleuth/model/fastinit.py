"""Cheaper construction of the model's frozen, slotted, keyword-only dataclasses.

The ``__init__`` that ``dataclass(frozen=True)`` writes stores every field with
``object.__setattr__(self, name, value)``: a general attribute lookup and a C call per field,
about half the cost of building a small model object. :func:`fast_init` replaces it with one that
relabels the new object as a twin class with the same slots but ordinary assignment, stores the
fields as plain assignments, and relabels it back. Everything callers see stays the same: the
keyword-only signature, defaults and default factories, the dataclass fields, ``==``/``hash``/
``repr``, ``dataclasses.replace``, and ``FrozenInstanceError`` on assignment.

Calling a class with keyword arguments has a fixed cost of its own (the arguments pass through a
dict on the way to ``__init__``). For the few places that build many objects of one class per
message, :func:`factory` gives a plain function with the same keyword-only signature that builds
the object directly (about a fifth of the dataclass cost).

Like ``dataclasses`` itself, both functions are generated as source text from the fields (one
plain assignment per field is what makes them cheap); only field names, which are identifiers, go
into that text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_TWINS: dict[type, type] = {}  # model class -> its twin; one entry per decorated class


def _checked_fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None:
        raise TypeError(f"fast_init: {cls.__name__} is not a dataclass")
    fields = dataclasses.fields(cls)
    if (not params.frozen or "__slots__" not in cls.__dict__ or cls.__bases__ != (object,)
            or hasattr(cls, "__post_init__") or any(f.init and not f.kw_only for f in fields)
            or any(f.name in ("self", "obj") or f.name.startswith("_fi_") for f in fields)):
        raise TypeError(f"fast_init: {cls.__name__} is not a frozen, slotted, keyword-only dataclass without base")
    return fields


def _generate(cls: type, kind: str) -> Callable[..., Any]:
    """The source of ``__init__`` (kind "init") or of the factory (kind "factory"), compiled."""
    fields = _checked_fields(cls)
    twin = _TWINS.get(cls)
    if twin is None:
        # Same slots, same (object) base: the layouts match, so ``__class__`` may move between them.
        twin = _TWINS[cls] = type(f"_Open{cls.__name__}", (), {"__slots__": cls.__dict__["__slots__"],
                                                                "__module__": cls.__module__})
    env: dict[str, Any] = {"_fi_set": object.__setattr__, "_fi_twin": twin, "_fi_cls": cls,
                           "_fi_missing": dataclasses.MISSING}
    params: list[str] = []
    prologue: list[str] = []  # default factories of omitted arguments
    stores: list[tuple[str, str]] = []  # (field, expression) in field order
    for f in fields:
        name = f.name
        if f.default is not dataclasses.MISSING:
            env[f"_fi_d_{name}"] = f.default
            default = f"_fi_d_{name}"
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_fi_f_{name}"] = f.default_factory
            default = f"_fi_f_{name}()"
        else:
            default = ""
        if not f.init:
            if default:
                stores.append((name, default))
        elif f.default_factory is not dataclasses.MISSING:
            params.append(f"{name}=_fi_missing")
            prologue.append(f"if {name} is _fi_missing: {name} = {default}")
            stores.append((name, name))
        else:
            params.append(f"{name}={default}" if default else name)
            stores.append((name, name))
    signature = f"*, {', '.join(params)}" if params else ""
    if kind == "init":
        lines = [
            f"def __init__(self{', ' if signature else ''}{signature}):",
            *(f"    {line}" for line in prologue),
            "    if type(self) is not _fi_cls:",  # a subclass may have another layout: store the slow way
            *(f"        _fi_set(self, {name!r}, {expr})" for name, expr in stores),
            "        return",
            "    _fi_set(self, '__class__', _fi_twin)",
            *(f"    self.{name} = {expr}" for name, expr in stores),
            "    self.__class__ = _fi_cls",
        ]
    else:
        lines = [
            f"def new({signature}):",
            *(f"    {line}" for line in prologue),
            "    obj = _fi_twin()",
            *(f"    obj.{name} = {expr}" for name, expr in stores),
            "    obj.__class__ = _fi_cls",
            "    return obj",
        ]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<fast_init {cls.__qualname__}>", "exec"), env, namespace)
    func: Callable[..., Any] = namespace["__init__" if kind == "init" else "new"]
    func.__qualname__ = f"{cls.__qualname__}.__init__" if kind == "init" else f"new_{cls.__name__}"
    func.__module__ = cls.__module__
    return func


def fast_init(cls: type[T]) -> type[T]:
    """Give a ``@dataclass(frozen=True, slots=True, kw_only=True)`` class the cheaper ``__init__``.

    Apply it above the ``@dataclass`` decorator. Other shapes (a base class, ``__post_init__``,
    positional fields) are refused: the dataclass ``__init__`` serves them."""
    cls.__init__ = _generate(cls, "init")  # type: ignore[method-assign]
    return cls


def factory(cls: type[T]) -> Callable[..., T]:
    """A function that builds ``cls`` objects from the same keyword arguments as ``cls(...)``,
    cheaper than calling the class. For a class decorated with :func:`fast_init`."""
    if cls not in _TWINS:
        raise TypeError(f"factory: {cls.__name__} is not decorated with fast_init")
    return _generate(cls, "factory")
