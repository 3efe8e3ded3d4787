"""Faces for ComfyUI names that Kiln does not implement: importable with ComfyUI's kind and signature, failing
clearly when used.

ComfyUI's packs import names from `comfy.*` and `comfy_extras.*` at module level (to subclass a model class, to
reuse a node, to read a table), often names they only touch on one code path. Kiln keeps every public name of
ComfyUI 0.3.64 importable so that such a pack loads and its other nodes work; a name whose machinery Kiln lacks
(a model family it does not run, a CUDA-only kernel, a node it has not written) is one of these faces:

- `unsupported_class(...)`: a class with ComfyUI's `__init__` parameters; constructing it (or a subclass that
  reaches its `__init__`) raises `UnsupportedError`. Subclassing and `isinstance` work, so packs that only
  declare subclasses still import.
- `unsupported_function(...)`: a function with ComfyUI's parameters that raises `UnsupportedError` when called.
- `UnsupportedValue(...)`: a module constant whose value Kiln does not have; any use of it (indexing, iteration,
  attribute access, truth) raises `UnsupportedError`.

Parameters are written as in a `def` line without defaults' values: `"sd, prefix=, *args, dtype=, **kwargs"`
(`name=` has a default; a bare `*` starts keyword-only parameters). Defaults read as `UNKNOWN_DEFAULT`.
"""

from __future__ import annotations

import inspect
from typing import Any, NoReturn


class UnsupportedError(NotImplementedError):
    """A ComfyUI name that Kiln keeps importable but does not implement was used."""


class UnsupportedAttributeError(UnsupportedError, AttributeError):
    """An attribute of an `UnsupportedValue` was read: also an AttributeError, so `hasattr` and `getattr(...,
    default)` (which code scanning modules uses) answer "absent" instead of failing."""


class _UnknownDefault:
    def __repr__(self) -> str:
        return "<default>"


UNKNOWN_DEFAULT: Any = _UnknownDefault()


def _message(qualified_name: str, reason: str) -> str:
    return (f"{qualified_name} is not implemented in Kiln: {reason}. It is importable so that packs which "
            f"reference it load; a workflow that needs it must run on ComfyUI.")


def _raise(qualified_name: str, reason: str) -> NoReturn:
    raise UnsupportedError(_message(qualified_name, reason))


def parse_parameters(parameters: str) -> inspect.Signature:
    """An `inspect.Signature` from `"a, b=, *args, c=, **kwargs"` (see the module docstring)."""
    result = []
    keyword_only = False
    for item in (part.strip() for part in parameters.split(",")):
        if not item:
            continue
        if item == "*":
            keyword_only = True
            continue
        if item.startswith("**"):
            result.append(inspect.Parameter(item[2:], inspect.Parameter.VAR_KEYWORD))
            continue
        if item.startswith("*"):
            result.append(inspect.Parameter(item[1:], inspect.Parameter.VAR_POSITIONAL))
            keyword_only = True
            continue
        name, has_default = item.removesuffix("="), item.endswith("=")
        kind = inspect.Parameter.KEYWORD_ONLY if keyword_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
        default = UNKNOWN_DEFAULT if has_default else inspect.Parameter.empty
        result.append(inspect.Parameter(name, kind, default=default))
    return inspect.Signature(result)


def unsupported_function(module: str, name: str, parameters: str, reason: str) -> Any:
    """A function `module.name` with ComfyUI's `parameters` that raises `UnsupportedError` when called."""
    qualified_name = f"{module}.{name}"

    def face(*args: Any, **kwargs: Any) -> NoReturn:
        _raise(qualified_name, reason)

    face.__name__ = face.__qualname__ = name
    face.__module__ = module
    face.__doc__ = f"Not implemented in Kiln ({reason}); raises UnsupportedError."
    face.__signature__ = parse_parameters(parameters)  # type: ignore[attr-defined]
    return face


def unsupported_class(module: str, name: str, parameters: str | None, reason: str,
                      base: type = object) -> type:
    """A class `module.name` (subclassing `base`) whose `__init__` takes ComfyUI's `parameters` (after `self`;
    None: no `__init__` of its own in ComfyUI) and raises `UnsupportedError`."""
    qualified_name = f"{module}.{name}"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> NoReturn:  # noqa: N807 - the dunder it is
        _raise(qualified_name, reason)

    __init__.__signature__ = parse_parameters("self, " + (parameters or "*args, **kwargs"))  # type: ignore[attr-defined]
    namespace = {"__init__": __init__, "__module__": module, "__kiln_unsupported__": reason,
                 "__doc__": f"Not implemented in Kiln ({reason}); constructing it raises UnsupportedError."}
    return type(name, (base,), namespace)


class UnsupportedValue:
    """A module constant Kiln does not have; every use raises `UnsupportedError`."""

    def __init__(self, module: str, name: str, reason: str):
        object.__setattr__(self, "_qualified_name", f"{module}.{name}")
        object.__setattr__(self, "_reason", reason)

    def _fail(self) -> NoReturn:
        _raise(object.__getattribute__(self, "_qualified_name"), object.__getattribute__(self, "_reason"))

    def __getattr__(self, name: str) -> NoReturn:
        raise UnsupportedAttributeError(_message(object.__getattribute__(self, "_qualified_name"),
                                                 object.__getattribute__(self, "_reason")))

    def __getitem__(self, key: Any) -> NoReturn:
        self._fail()

    def __iter__(self) -> NoReturn:
        self._fail()

    def __len__(self) -> NoReturn:
        self._fail()

    def __bool__(self) -> NoReturn:
        self._fail()

    def __contains__(self, item: Any) -> NoReturn:
        self._fail()

    def __repr__(self) -> str:
        return f"<unsupported {object.__getattribute__(self, '_qualified_name')}>"
