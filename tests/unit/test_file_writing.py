"""comfy.file_writing: files whole or absent (the full-disk runs are in tests/e2e/test_disk_faults.py)."""

from __future__ import annotations

import errno
import os

import pytest

from comfy.file_writing import DiskFullError, whole_file, write_bytes_new, write_bytes_whole, write_whole


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    write_bytes_whole(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.png"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")

    def half_then_fail(stream):
        stream.write(b"half")
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        write_whole(str(target), half_then_fail)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.png"]


def test_the_temporary_name_is_hidden_and_keeps_the_extension(tmp_path):
    with whole_file(str(tmp_path / "Kiln_00001_.webp")) as partial:
        name = os.path.basename(partial)
        assert name.startswith(".Kiln_00001_.") and name.endswith(".webp")
        open(partial, "wb").close()
    assert os.listdir(tmp_path) == ["Kiln_00001_.webp"]


def test_an_out_of_space_error_names_the_folder(tmp_path):
    with pytest.raises(DiskFullError) as raised:
        with whole_file(str(tmp_path / "x.png")) as partial:
            open(partial, "wb").close()
            raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.errno == errno.ENOSPC and str(tmp_path) in str(raised.value)
    assert os.listdir(tmp_path) == []


def test_a_new_file_never_replaces_one_that_exists(tmp_path):
    (tmp_path / "a.png").write_bytes(b"first")
    name = write_bytes_new(str(tmp_path), iter(["a.png", "a_1.png"]), b"second")
    assert name == "a_1.png"
    assert (tmp_path / "a.png").read_bytes() == b"first" and (tmp_path / "a_1.png").read_bytes() == b"second"
    assert sorted(os.listdir(tmp_path)) == ["a.png", "a_1.png"]
