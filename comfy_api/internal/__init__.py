"""The helpers behind the versioned APIs: class cloning and locking for V3 node calls, override detection, and the
API version registry (`comfy_api.internal`, under ComfyUI's names).

The executor recognises V3 nodes and their results by the two marker bases `_ComfyNodeInternal` and
`_NodeOutputInternal`, so every API version's `ComfyNode` and `NodeOutput` run the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from comfy_api.internal.api_registry import (
    ComfyAPIBase,
    ComfyAPIWithVersion,
    get_all_versions,
    register_versions,
)

__all__ = [
    "ComfyAPIBase", "ComfyAPIWithVersion", "register_versions", "get_all_versions", "first_real_override",
    "is_class", "copy_class", "classproperty", "shallow_clone_class", "lock_class", "make_locked_method_func",
    "prune_dict", "as_pruned_dict",
]


class _ComfyNodeInternal:
    """Marker base of every API version's V3 node class (what the executor and `/object_info` test for)."""

    @classmethod
    def GET_NODE_INFO_V1(cls) -> dict:
        raise NotImplementedError


class _NodeOutputInternal:
    """Marker base of every API version's V3 node result."""


def prune_dict(d: dict) -> dict:
    """`d` without its None values (False, 0 and "" are kept)."""
    return {key: value for key, value in d.items() if value is not None}


def as_pruned_dict(dataclass_obj: Any) -> dict:
    """A dataclass as a dict, without its None fields."""
    return prune_dict(dataclasses.asdict(dataclass_obj))


def is_class(obj: Any) -> bool:
    """True for a class, False for an instance."""
    return isinstance(obj, type)


def first_real_override(cls: type, name: str, *, base: type | None = None) -> Callable | None:
    """`cls`'s `name` (bound to `cls`) if some class between `cls` and `base` redefines it, else None.

    `base` defaults to `cls.GET_BASE_CLASS()`, the API's ComfyNode: its own `validate_inputs`,
    `fingerprint_inputs` and `check_lazy_status` are placeholders that do not count as the node having one.
    """
    if base is None:
        if not hasattr(cls, "GET_BASE_CLASS"):
            raise ValueError("base is required if cls does not have a GET_BASE_CLASS; is this a valid ComfyNode "
                             "subclass?")
        base = cls.GET_BASE_CLASS()
    placeholder = getattr(base, name, None)
    if placeholder is None:
        return None
    placeholder_function = getattr(placeholder, "__func__", placeholder)
    for klass in cls.__mro__:
        if klass is base:
            break
        if name in klass.__dict__:
            attribute = klass.__dict__[name]
            if getattr(attribute, "__func__", attribute) is not placeholder_function:
                return getattr(cls, name)
    return None


def copy_class(cls: type | None) -> type | None:
    """A subclass of `cls` carrying copies of its own attributes (so changing the copy leaves `cls` alone)."""
    if cls is None:
        return None
    namespace = {key: value for key, value in cls.__dict__.items()
                 if key not in ("__dict__", "__weakref__", "__module__", "__doc__")}
    copied = type(cls.__name__, (cls,), namespace)
    copied.__module__ = cls.__module__
    copied.__doc__ = cls.__doc__
    return copied


class classproperty:
    """A read-only property of the class: `cls.NAME` calls `function(cls)`."""

    def __init__(self, f: Callable[[type], Any]):
        self.f = f
        self.__doc__ = getattr(f, "__doc__", None)

    def __get__(self, instance: Any, owner: type) -> Any:
        return self.f(owner)


def shallow_clone_class(cls: type, new_name: str | None = None) -> type:
    """A subclass of `cls` named `<Name>Clone`: attributes set on it stay off `cls`, `super()` still works."""
    return type(new_name or f"{cls.__name__}Clone", (cls,), {})


def lock_class(cls: type) -> type:
    """A subclass of `cls` whose class attributes cannot be set (nor instance attributes of its instances)."""

    def refuse_instance_attribute(self: Any, name: str, value: Any) -> None:
        raise AttributeError(f"Cannot set attribute '{name}' on immutable instance of {type(self).__name__}")

    class LockedMeta(type(cls)):
        def __setattr__(cls_, name: str, value: Any) -> None:
            raise AttributeError(f"Cannot modify class attribute '{name}' on locked class '{cls_.__name__}'")

    return LockedMeta(cls.__name__, (cls,), {"__setattr__": refuse_instance_attribute})


def make_locked_method_func(type_obj: type, func: str, class_clone: type) -> Callable:
    """A function taking the node's inputs as keywords that calls `type_obj.<func>` with the locked `class_clone` as
    its `cls` (an `async def` stays async), so a V3 node call cannot change the node class."""
    locked = lock_class(class_clone)
    method = getattr(type_obj, func).__func__
    if asyncio.iscoroutinefunction(method):
        async def call_async(**inputs: Any) -> Any:
            return await method(locked, **inputs)

        return call_async

    def call(**inputs: Any) -> Any:
        return method(locked, **inputs)

    return call
