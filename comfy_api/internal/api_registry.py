"""The registered public API versions (`latest`, `0.0.2`, `0.0.1`), oldest first."""

from __future__ import annotations

from typing import NamedTuple

from packaging import version as packaging_version

from comfy_api.internal.singleton import ProxiedSingleton


class ComfyAPIBase(ProxiedSingleton):
    """Base of each API version's class; one instance per version class."""

    def __init__(self) -> None:
        pass


class ComfyAPIWithVersion(NamedTuple):
    version: str
    api_class: type[ComfyAPIBase]


def parse_version(version_str: str) -> packaging_version.Version:
    """A comparable version; "latest" sorts after every numbered one. ValueError for a malformed string."""
    if version_str == "latest":
        return packaging_version.parse("9999999.9999999.9999999")
    return packaging_version.parse(version_str)


registered_versions: list[ComfyAPIWithVersion] = []


def register_versions(versions: list[ComfyAPIWithVersion]) -> None:
    """Replace the registered versions with `versions`, sorted oldest first."""
    global registered_versions
    versions.sort(key=lambda entry: parse_version(entry.version))
    registered_versions = versions


def get_all_versions() -> list[ComfyAPIWithVersion]:
    """The registered versions, oldest first."""
    return registered_versions
