"""Faults of the disk under a running server: a full output folder, a damaged or read-only job store, a full
disk under the store while prompts are queued.

The full and read-only file systems are real: small tmpfs mounts made by the test (root, as in CI). Where this
process may not mount, the read-only case falls back to a folder without write permission and the full-disk
cases are skipped with the reason.
"""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from comfy_execution.store import SQLiteJobStore

from .client import KilnClient
from .conftest import REPO_ROOT, KilnServer, _free_port
from .graphs import fresh, node

pytestmark = pytest.mark.asyncio


def _mount_tmpfs(folder: Path, size_kib: int, read_only: bool = False) -> str | None:
    """Mount a tmpfs of `size_kib` at `folder`; None when done, else why it could not be."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kib}k,mode=0777" + (",ro" if read_only else "")
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "kiln-test", str(folder)],
                                capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if result.returncode == 0 else (result.stderr.strip() or f"mount exited {result.returncode}")


@contextmanager
def small_disk(folder: Path, size_kib: int = 512) -> Iterator[Path]:
    why = _mount_tmpfs(folder, size_kib)
    if why is not None:
        pytest.skip(f"a full disk needs a small file system, and this process cannot mount one: {why}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill(folder: Path) -> Path:
    """Take every free block of the file system under `folder`; the file that holds them."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as stream:
        while True:
            try:
                stream.write(b"\xff" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                return filler


def image_prompt(prefix: str) -> dict:
    return {"1": node("EmptyImage", width=16, height=16, batch_size=1, color=fresh() % 0xFFFFFF),
            "2": node("SaveImage", images=["1", 0], filename_prefix=prefix)}


def visible_files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def all_files(folder: Path) -> set[str]:
    return {name for _, _, files in os.walk(folder) for name in files}


async def run_to_end(client: KilnClient, prompt: dict) -> tuple[str, dict, list[dict]]:
    """Queue and wait: (status string of the history entry, its outputs, the run's execution_error data)."""
    answer = await client.queue_prompt(prompt)
    prompt_id = answer["prompt_id"]
    await client.wait_done(prompt_id)
    entry = (await client.history(prompt_id))[prompt_id]
    errors = [message["data"] for message in client.messages_for(prompt_id) if message["type"] == "execution_error"]
    return entry["status"]["status_str"], entry["outputs"], errors


async def test_a_full_output_disk_fails_the_save_cleanly_and_the_next_job_after_freeing_space_succeeds(tmp_path):
    with small_disk(tmp_path / "output") as output:
        kiln = KilnServer(tmp_path / "base", ["--output-directory", str(output)])
        kiln.base_dir.mkdir()
        kiln.start()
        try:
            async with KilnClient(kiln.url) as client:
                await client.connect()
                before = all_files(output)
                filler = fill(output)
                for _ in range(2):  # a second job on the still-full disk leaves nothing either
                    status, outputs, errors = await run_to_end(client, image_prompt("Kiln"))
                    assert status == "error" and outputs == {}
                    assert len(errors) == 1 and errors[0]["node_type"] == "SaveImage"
                    assert str(output) in errors[0]["exception_message"]
                    assert "No space left" in errors[0]["exception_message"]
                    # no partial file, not even a hidden temporary one
                    assert all_files(output) == before | {"filler.bin"}
                assert (await client.get("/system_stats")).status == 200

                filler.unlink()
                status, outputs, errors = await run_to_end(client, image_prompt("Kiln"))
                assert status == "success" and errors == []
                saved = outputs["2"]["images"]
                # the failed jobs never wrote a file, so the counter did not advance
                assert [image["filename"] for image in saved] == ["Kiln_00001_.png"]
                picture = Image.open(io.BytesIO(await client.download(saved[0])))
                assert picture.size == (16, 16)
                assert visible_files(output) >= {"Kiln_00001_.png"}
            assert kiln.is_alive()
        finally:
            kiln.stop()


def start_refused(base_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the server expecting it to refuse to start; its exit and output."""
    command = [sys.executable, "main.py", "--port", str(_free_port()), "--listen", "127.0.0.1",
               "--base-directory", str(base_dir), *extra]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def damaged_store(path: Path) -> None:
    """A real store with a few jobs, then one of its inner pages overwritten."""
    store = SQLiteJobStore(str(path))
    for number in range(40):
        store.put((number, f"job-{number}", {"1": {"class_type": "X", "inputs": {"text": "x" * 2000}}}, {}, ["1"]))
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page:5 * page] = os.urandom(2 * page)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["not a database", "damaged page"])
async def test_a_damaged_store_stops_start_up_naming_the_file_and_store_recover_moves_it_aside(tmp_path, damage):
    base = tmp_path / "base"
    store = base / "user" / "kiln.db"
    store.parent.mkdir(parents=True)
    if damage == "not a database":
        store.write_bytes(b"this is not a database\n" * 200)
    else:
        damaged_store(store)
    original = store.read_bytes()

    refused = start_refused(base)
    assert refused.returncode == 2, refused.stderr[-2000:]
    message = refused.stderr.strip().splitlines()[-1]
    assert str(store) in message and "--store-recover" in message and "--store PATH" in message
    assert store.read_bytes() == original  # refusing touched nothing

    kiln = KilnServer(base, ["--store-recover"])
    kiln.start()
    try:
        aside = [path for path in store.parent.iterdir() if path.name.startswith("kiln.db.damaged-")]
        assert len(aside) == 1 and aside[0].read_bytes() == original
        assert str(aside[0]) in kiln.log()
        async with KilnClient(kiln.url) as client:
            await client.connect()
            assert await client.history() == {}
            status, _, _ = await run_to_end(client, image_prompt("Recovered"))
            assert status == "success"
    finally:
        kiln.stop()


async def test_a_read_only_store_folder_is_refused_at_start(tmp_path):
    folder = tmp_path / "store"
    why = _mount_tmpfs(folder, 64, read_only=True)
    if why is None:
        cleanup = ["umount", "-l", str(folder)]
    else:  # not allowed to mount: a folder without write permission (which binds everyone but root)
        if os.geteuid() == 0:
            pytest.skip(f"root may write anywhere and this process cannot mount a read-only file system: {why}")
        folder.mkdir(exist_ok=True)
        folder.chmod(0o555)
        cleanup = ["chmod", "755", str(folder)]
    try:
        refused = start_refused(tmp_path / "base", "--store", str(folder / "kiln.db"))
        assert refused.returncode == 2, refused.stderr[-2000:]
        message = refused.stderr.strip().splitlines()[-1]
        assert str(folder) in message and "not writable" in message and "--store PATH" in message
    finally:
        subprocess.run(cleanup, capture_output=True, timeout=30)


async def test_a_full_disk_under_the_store_refuses_new_prompts_with_503_and_loses_nothing(tmp_path):
    with small_disk(tmp_path / "store", 1024) as folder:
        store = folder / "kiln.db"
        kiln = KilnServer(tmp_path / "base", ["--store", str(store)])
        kiln.base_dir.mkdir()
        kiln.start()
        try:
            async with KilnClient(kiln.url) as client:
                await client.connect()
                status, _, _ = await run_to_end(client, image_prompt("Before"))
                assert status == "success"
                kept = await client.history()

                filler = fill(folder)
                refused = await client.submit(image_prompt("Refused"))
                assert refused.status == 503, refused.body[:500]
                error = refused.json()["error"]
                assert str(store) in error["details"] and error["type"] == "store_unavailable"
                assert (await client.get("/system_stats")).status == 200
                assert await client.history() == kept

                filler.unlink()
                status, outputs, _ = await run_to_end(client, image_prompt("After"))
                assert status == "success"
                history = await client.history()
                assert set(kept) < set(history) and len(history) == len(kept) + 1
        finally:
            kiln.stop()

        # and the jobs are in the store for the next start
        with sqlite3.connect(store) as connection:
            states = [row[0] for row in connection.execute("SELECT state FROM jobs")]
        assert states == ["completed", "completed"]
