"""Synchronous twins of the async API classes (`ComfyAPISync`), for node code that is not `async def`.

A sync method runs its coroutine to completion: on a private event loop in the calling thread when no loop runs
there, else (sync node code called from the executor's loop) on a helper thread, in a copy of the caller's context
so the running node is still known.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from comfy_api.internal.singleton import ProxiedSingleton


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_on_private_loop(coroutine: Coroutine) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class AsyncToSyncConverter:
    """Runs coroutines from sync code and builds sync wrapper classes."""

    _thread_pool: concurrent.futures.ThreadPoolExecutor | None = None
    _thread_pool_size = 10

    @classmethod
    def get_thread_pool(cls, max_workers: int | None = None) -> concurrent.futures.ThreadPoolExecutor:
        if cls._thread_pool is None:
            cls._thread_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=max_workers or cls._thread_pool_size, thread_name_prefix="comfy_api_sync")
        return cls._thread_pool

    @classmethod
    def run_async_in_thread(cls, coro_func: Callable[..., Coroutine], *args: Any, **kwargs: Any) -> Any:
        """`await coro_func(*args, **kwargs)` from sync code; returns its result or raises its exception."""
        if not _loop_running_here():  # (not inside `except`: the coroutine's own errors must not chain to it)
            return _run_on_private_loop(coro_func(*args, **kwargs))
        context = contextvars.copy_context()
        future = cls.get_thread_pool().submit(context.run, lambda: _run_on_private_loop(coro_func(*args, **kwargs)))
        return future.result()

    @classmethod
    def create_sync_class(cls, async_class: type, thread_pool_size: int = 10) -> type:
        """A class whose instances wrap an `async_class()` instance: its coroutine methods become blocking methods,
        other methods are passed through, and API objects it holds (ProxiedSingleton attributes, such as
        `execution`) are wrapped the same way."""
        cls._thread_pool_size = thread_pool_size

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            _wrap_instance(self, async_class(*args, **kwargs))

        return _sync_class_for(async_class, __init__)


def _sync_class_for(async_class: type, init: Callable | None = None) -> type:
    namespace: dict[str, Any] = {"__doc__": f"Synchronous version of {async_class.__name__}.",
                                 "__module__": async_class.__module__}
    if init is not None:
        namespace["__init__"] = init
    for name, member in inspect.getmembers(async_class):
        if name.startswith("_") or not callable(member) or inspect.isclass(member):
            continue
        if inspect.iscoroutinefunction(member):
            def blocking(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                return AsyncToSyncConverter.run_async_in_thread(getattr(self._async_instance, _name), *args,
                                                                **kwargs)

            namespace[name] = blocking
        else:
            def passthrough(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                return getattr(self._async_instance, _name)(*args, **kwargs)

            namespace[name] = passthrough
    return type(f"{async_class.__name__}Sync", (), namespace)


def _wrap_instance(wrapper: Any, async_instance: Any) -> None:
    wrapper._async_instance = async_instance
    for name, value in vars(async_instance).items():
        if name.startswith("_"):
            continue
        if isinstance(value, ProxiedSingleton):
            nested = object.__new__(_sync_class_for(type(value)))
            _wrap_instance(nested, value)
            value = nested
        setattr(wrapper, name, value)


def create_sync_class(async_class: type, thread_pool_size: int = 10) -> type:
    """The synchronous twin of an async API class (see `AsyncToSyncConverter.create_sync_class`)."""
    return AsyncToSyncConverter.create_sync_class(async_class, thread_pool_size)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = "an internal of ComfyUI's stub generator"

TypeTracker = unsupported_class(__name__, 'TypeTracker', '', _REASON)
