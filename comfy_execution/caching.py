"""Node result caches keyed by input signatures, with ComfyUI's four policies (classic, LRU, none, RAM pressure).

A node's signature is a digest of its class, its IS_CHANGED value, its constant inputs and the signatures of
the nodes feeding it (plus its id for NOT_IDEMPOTENT nodes and nodes with a hidden UNIQUE_ID). Node ids of
ancestors do not enter it, so identical sub-graphs share results across prompts. Digests are computed once per
node in topological order with an explicit stack: linear in the graph size, however deep.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import nodes
from comfy_execution.graph import DynamicPrompt
from comfy_execution.graph_utils import is_link

IsChangedLookup = Callable[[str], Awaitable[Any]]

_never_equal = itertools.count()


class CacheType(enum.Enum):
    CLASSIC = 0
    LRU = 1
    NONE = 2
    RAM_PRESSURE = 3


def _canonical(value: Any) -> str:
    """A text that is equal for equal values; values that must never match (NaN, unserialisable objects) get a
    text of their own."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return repr(value)
    if kind is float:
        return repr(value) if value == value else f"<unique {next(_never_equal)}>"
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return f"<unique {next(_never_equal)}>"


def _includes_node_id(class_def: type) -> bool:
    if getattr(class_def, "NOT_IDEMPOTENT", False):
        return True
    hidden = (class_def.INPUT_TYPES().get("hidden") or {}).values()
    return any((kind[0] if isinstance(kind, (list, tuple)) else kind) == "UNIQUE_ID" for kind in hidden)


class NodeSignatures:
    """Signature digests of the nodes of one prompt (and of the ephemeral nodes its expansions add)."""

    def __init__(self, dynprompt: DynamicPrompt, is_changed: IsChangedLookup):
        self.dynprompt = dynprompt
        self.is_changed = is_changed
        self.digests: dict[str, str] = {}

    def get(self, node_id: str) -> str | None:
        return self.digests.get(node_id)

    async def add_keys(self, node_ids: Iterable[str]) -> None:
        """Compute the digests of `node_ids` and of everything upstream of them."""
        for node_id in node_ids:
            if node_id not in self.digests:
                for ordered_id in self._post_order(node_id):
                    await self._compute(ordered_id)

    def _post_order(self, root: str) -> list[str]:
        """`root` and its not-yet-signed ancestors, each after the nodes it reads from (cycles cut anywhere)."""
        order: list[str] = []
        entered: set[str] = set()
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            node_id, children_done = stack.pop()
            if children_done:
                order.append(node_id)
                continue
            if node_id in entered or node_id in self.digests or not self.dynprompt.has_node(node_id):
                continue
            entered.add(node_id)
            stack.append((node_id, True))
            for value in self.dynprompt.get_node(node_id)["inputs"].values():
                if is_link(value) and value[0] not in entered:
                    stack.append((value[0], False))
        return order

    async def _compute(self, node_id: str) -> None:
        if node_id in self.digests:
            return
        node = self.dynprompt.get_node(node_id)
        class_type = node["class_type"]
        class_def = nodes.NODE_CLASS_MAPPINGS.get(class_type)
        parts: list[str] = [_canonical(class_type)]
        if class_def is None:
            parts.append(f"<unique {next(_never_equal)}>")
        else:
            parts.append(_canonical(await self.is_changed(node_id)))
            if _includes_node_id(class_def):
                parts.append(_canonical(node_id))
        for name in sorted(node["inputs"]):
            value = node["inputs"][name]
            if is_link(value):
                ancestor = self.digests.get(value[0])
                if ancestor is None:  # missing node, or a link back into a cycle
                    ancestor = f"<unique {next(_never_equal)}>"
                parts.append(f"{_canonical(name)}=ANCESTOR({ancestor},{_canonical(value[1])})")
            else:
                parts.append(f"{_canonical(name)}={_canonical(value)}")
        self.digests[node_id] = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()


class _Entry:
    __slots__ = ("value", "generation", "node_id")

    def __init__(self, value: Any, generation: int, node_id: str):
        self.value = value
        self.generation = generation
        self.node_id = node_id


class SignatureCache:
    """Values by node signature: `get(node_id)` / `set(node_id, value)` for the current prompt's nodes."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.signatures: NodeSignatures | None = None
        self.generation = 0

    def set_prompt(self, signatures: NodeSignatures) -> None:
        self.signatures = signatures
        self.generation += 1

    def _key(self, node_id: str) -> str | None:
        return self.signatures.get(node_id) if self.signatures else None

    def get(self, node_id: str) -> Any:
        key = self._key(node_id)
        entry = self.entries.get(key) if key is not None else None
        if entry is None:
            return None
        entry.generation = self.generation
        return entry.value

    def set(self, node_id: str, value: Any) -> None:
        key = self._key(node_id)
        if key is not None:
            self.entries[key] = _Entry(value, self.generation, node_id)

    def keep_only(self, keys: set[str]) -> None:
        for key in [key for key in self.entries if key not in keys]:
            del self.entries[key]

    def evict_oldest(self, should_evict: Callable[[], bool]) -> None:
        """Drop entries least recently used first while `should_evict()` holds; never those of this prompt."""
        for key, entry in sorted(self.entries.items(), key=lambda item: item[1].generation):
            if entry.generation >= self.generation or not should_evict():
                break
            del self.entries[key]

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


class ObjectCache:
    """Node instances by (node id, class type), kept while the node stays in the prompt."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Any] = {}
        self.dynprompt: DynamicPrompt | None = None

    def set_prompt(self, dynprompt: DynamicPrompt) -> None:
        self.dynprompt = dynprompt

    def _key(self, node_id: str) -> tuple[str, str]:
        return node_id, self.dynprompt.get_node(node_id)["class_type"]

    def get(self, node_id: str) -> Any:
        return self.objects.get(self._key(node_id))

    def set(self, node_id: str, value: Any) -> None:
        self.objects[self._key(node_id)] = value

    def keep_only(self, keys: set[tuple[str, str]]) -> None:
        for key in [key for key in self.objects if key not in keys]:
            del self.objects[key]

    def clear(self) -> None:
        self.objects.clear()


class CacheSet:
    """The executor's three caches (outputs, ui, objects) under one eviction policy."""

    def __init__(self, cache_type: CacheType = CacheType.CLASSIC, cache_size: float = 0,
                 free_ram: Callable[[], int] | None = None):
        self.cache_type = cache_type
        self.cache_size = cache_size
        self.free_ram = free_ram
        self.outputs = SignatureCache()
        self.ui = SignatureCache()
        self.objects = ObjectCache()
        self.signatures: NodeSignatures | None = None

    async def set_prompt(self, dynprompt: DynamicPrompt, node_ids: Iterable[str], is_changed: IsChangedLookup
                         ) -> None:
        """Compute the prompt's signatures and drop what the policy says the new prompt cannot reuse."""
        node_ids = list(node_ids)
        self.signatures = NodeSignatures(dynprompt, is_changed)
        await self.signatures.add_keys(node_ids)
        for cache in (self.outputs, self.ui):
            cache.set_prompt(self.signatures)
        self.objects.set_prompt(dynprompt)
        current_keys = {self.signatures.get(node_id) for node_id in node_ids}
        if self.cache_type == CacheType.NONE:
            self.outputs.clear()
            self.ui.clear()
            self.objects.clear()
        elif self.cache_type == CacheType.CLASSIC:
            self.outputs.keep_only(current_keys)
            self.ui.keep_only(current_keys)
        self.objects.keep_only({(node_id, dynprompt.get_node(node_id)["class_type"]) for node_id in node_ids})
        self.enforce_limits()

    async def add_ephemeral_keys(self, node_ids: Iterable[str]) -> None:
        if self.signatures is not None:
            await self.signatures.add_keys(node_ids)

    def enforce_limits(self) -> None:
        """Evict old entries when over the LRU size or under the RAM headroom (called after each node)."""
        if self.cache_type == CacheType.LRU:
            for cache in (self.outputs, self.ui):
                cache.evict_oldest(lambda cache=cache: len(cache) > self.cache_size)
        elif self.cache_type == CacheType.RAM_PRESSURE and self.free_ram is not None:
            headroom = self.cache_size * 1024**3

            def too_little_ram() -> bool:
                return self.free_ram() < headroom

            if too_little_ram():
                before = len(self.outputs)
                self.outputs.evict_oldest(too_little_ram)
                self.ui.keep_only(set(self.outputs.entries))
                logging.debug("RAM pressure: evicted %d cached node outputs", before - len(self.outputs))

    def is_cached(self, node_id: str) -> bool:
        return self.outputs.get(node_id) is not None


def cache_settings(args: Any) -> tuple[CacheType, dict[str, Any]]:
    """The output cache the command-line flags ask for (--cache-lru N, --cache-ram GB, --cache-none), with its
    size argument; ComfyUI's classic cache otherwise."""
    if args.cache_lru > 0:
        return CacheType.LRU, {"lru": args.cache_lru}
    if args.cache_ram > 0:
        return CacheType.RAM_PRESSURE, {"ram": args.cache_ram}
    if args.cache_none:
        return CacheType.NONE, {}
    return CacheType.CLASSIC, {}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's caches are its own classes in comfy_execution/caching.py"

BasicCache = unsupported_class(__name__, 'BasicCache', 'key_class', _REASON)
CacheKeySet = unsupported_class(__name__, 'CacheKeySet', 'dynprompt, node_ids, is_changed_cache', _REASON)
CacheKeySetID = unsupported_class(__name__, 'CacheKeySetID', 'dynprompt, node_ids, is_changed_cache', _REASON)
CacheKeySetInputSignature = unsupported_class(__name__, 'CacheKeySetInputSignature', 'dynprompt, node_ids, is_changed_cache', _REASON)
DependencyAwareCache = unsupported_class(__name__, 'DependencyAwareCache', 'key_class', _REASON)
HierarchicalCache = unsupported_class(__name__, 'HierarchicalCache', 'key_class', _REASON)
LRUCache = unsupported_class(__name__, 'LRUCache', 'key_class, max_size=', _REASON)
NODE_CLASS_CONTAINS_UNIQUE_ID = UnsupportedValue(__name__, 'NODE_CLASS_CONTAINS_UNIQUE_ID', _REASON)
Unhashable = unsupported_class(__name__, 'Unhashable', '', _REASON)
include_unique_id_in_input = unsupported_function(__name__, 'include_unique_id_in_input', 'class_type', _REASON)
to_hashable = unsupported_function(__name__, 'to_hashable', 'obj', _REASON)
