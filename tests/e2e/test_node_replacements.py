"""GET /node_replacements on a real server: the replacements that loaded custom node packs offer, from their
`node_replacements.json` and from Python registration, in the shape the frontend's missing-node dialog reads.

A pack that fails to import contributes nothing, a file that is a symlink out of its pack is not read, and
malformed files and entries are skipped while the rest is served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .client import KilnClient
from .conftest import KilnServer

pytestmark = pytest.mark.asyncio

RENAMES = {
    "KilnOldResize": [
        {"new_node_id": "KilnNewResize", "old_node_id": "KilnOldResize", "old_widget_ids": ["longer_edge"],
         "input_mapping": [{"new_id": "image", "old_id": "images"}, {"new_id": "method", "set_value": "lanczos"}],
         "output_mapping": [{"new_idx": 0, "old_idx": 0}]},
        {"new_node_id": "KilnOtherResize"},  # old_node_id comes from the key
        {"new_node_id": "KilnNewResize", "input_mapping": [{"new_id": "x", "old_id": "y"}]},  # a repeat: ignored
        "not an entry",
        {"old_node_id": "KilnOldResize"},  # no new_node_id
    ],
    "KilnTypo ": [{"new_node_id": "KilnTypo", "input_mapping": [], "output_mapping": None}],
    "KilnNotAList": {"new_node_id": "KilnNothing"},
}

REGISTERING_PACK = '''
from app.custom_node_routes import register_node_replacement

NODE_CLASS_MAPPINGS = {}


class Replacement:
    """What ComfyUI's io.NodeReplace carries."""
    new_node_id = "KilnRegisteredNew"
    old_node_id = "KilnRegisteredOld"
    old_widget_ids = None
    input_mapping = [{"new_id": "a", "old_id": "b"}]
    output_mapping = None


register_node_replacement(Replacement())
register_node_replacement({"new_node_id": "KilnNewResize", "old_node_id": "KilnOldResize",
                           "output_mapping": [{"new_idx": 1, "old_idx": 0}]})
'''


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    base = tmp_path_factory.mktemp("kiln-node-replacements")
    outside = tmp_path_factory.mktemp("outside")
    _write(outside / "node_replacements.json", json.dumps({"KilnOutside": [{"new_node_id": "KilnLeaked"}]}))
    packs = base / "custom_nodes"
    _write(packs / "kiln_replacing_pack" / "__init__.py", "NODE_CLASS_MAPPINGS = {}\n")
    _write(packs / "kiln_replacing_pack" / "node_replacements.json", json.dumps(RENAMES))
    _write(packs / "kiln_registering_pack" / "__init__.py", REGISTERING_PACK)
    _write(packs / "kiln_broken_pack" / "__init__.py", "raise RuntimeError('kiln replacements pack broke')\n")
    _write(packs / "kiln_broken_pack" / "node_replacements.json",
           json.dumps({"KilnBroken": [{"new_node_id": "KilnFromBrokenPack"}]}))
    _write(packs / "kiln_garbled_pack" / "__init__.py", "NODE_CLASS_MAPPINGS = {}\n")
    _write(packs / "kiln_garbled_pack" / "node_replacements.json", "{not json")
    _write(packs / "kiln_linking_pack" / "__init__.py", "NODE_CLASS_MAPPINGS = {}\n")
    (packs / "kiln_linking_pack" / "node_replacements.json").symlink_to(outside / "node_replacements.json")
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_node_replacements_serves_what_loaded_packs_register_and_list(server, prefix):
    async with KilnClient(server.url, api_prefix=prefix) as client:
        replacements = await client.get_json("/node_replacements")
    assert sorted(replacements) == ["KilnOldResize", "KilnRegisteredOld", "KilnTypo "]
    assert replacements["KilnRegisteredOld"] == [
        {"new_node_id": "KilnRegisteredNew", "old_node_id": "KilnRegisteredOld", "old_widget_ids": None,
         "input_mapping": [{"new_id": "a", "old_id": "b"}], "output_mapping": None}]
    # registered in Python first, so that (old, new) pair keeps its registered mapping; the file adds the rest
    assert replacements["KilnOldResize"] == [
        {"new_node_id": "KilnNewResize", "old_node_id": "KilnOldResize", "old_widget_ids": None,
         "input_mapping": None, "output_mapping": [{"new_idx": 1, "old_idx": 0}]},
        {"new_node_id": "KilnOtherResize", "old_node_id": "KilnOldResize", "old_widget_ids": None,
         "input_mapping": None, "output_mapping": None}]
    assert replacements["KilnTypo "] == [
        {"new_node_id": "KilnTypo", "old_node_id": "KilnTypo ", "old_widget_ids": None, "input_mapping": None,
         "output_mapping": None}]


async def test_bad_files_and_entries_are_skipped_with_a_warning_naming_the_pack(server):
    async with KilnClient(server.url) as client:
        replacements = await client.get_json("/api/node_replacements")
    assert "KilnOutside" not in replacements and "KilnBroken" not in replacements
    log = server.log(4000)
    assert "kiln_garbled_pack" in log and "node_replacements.json" in log
    assert "the value of 'KilnNotAList' is not a list" in log
    assert "KilnLeaked" not in log and "KilnFromBrokenPack" not in log
    assert server.is_alive()
