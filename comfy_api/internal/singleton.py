"""One instance per class: `SingletonMetaclass` and its base `ProxiedSingleton` (the API objects use it)."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class SingletonMetaclass(type):
    """Calling the class returns its one instance, made on the first call."""

    _instances: dict[type, Any] = {}

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls not in SingletonMetaclass._instances:
            SingletonMetaclass._instances[cls] = super().__call__(*args, **kwargs)
        return SingletonMetaclass._instances[cls]

    def inject_instance(cls: type[T], instance: T) -> None:
        """Make `instance` the class's one instance (only before the first call)."""
        assert cls not in SingletonMetaclass._instances, "Cannot inject instance after first instantiation"
        SingletonMetaclass._instances[cls] = instance

    def get_instance(cls: type[T], *args: Any, **kwargs: Any) -> T:
        """The class's one instance, made now if there is none yet."""
        return cls(*args, **kwargs)


class ProxiedSingleton(metaclass=SingletonMetaclass):
    def __init__(self) -> None:
        super().__init__()
