"""UserManager (who a request is, where its paths land), the user-folder file functions and AppSettings."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from app import user_manager as user_files
from app.file_access import FileRequestError
from app.settings import AppSettings
from app.user_manager import UnknownUserError, UserManager


def request_as(user: str | None) -> SimpleNamespace:
    return SimpleNamespace(headers={} if user is None else {"Comfy-User": user})


@pytest.fixture
def single(tmp_path) -> UserManager:
    return UserManager(str(tmp_path / "user"), multi_user=False)


@pytest.fixture
def multi(tmp_path) -> UserManager:
    return UserManager(str(tmp_path / "user"), multi_user=True)


def test_single_user_mode_ignores_the_header_and_acts_as_default(single):
    assert single.get_request_user_id(request_as(None)) == "default"
    assert single.get_request_user_id(request_as("someone-else")) == "default"


def test_multi_user_mode_knows_only_created_users(multi):
    user_id = multi.add_user("Alice")
    assert multi.get_request_user_id(request_as(user_id)) == user_id
    for unknown in (None, "default", "nobody", "../default", user_id + "/..", "__manager", ""):
        with pytest.raises(UnknownUserError):
            multi.get_request_user_id(request_as(unknown))


def test_created_user_ids_are_folder_names_and_survive_a_restart(tmp_path, multi):
    user_id = multi.add_user("  Bob / the ../ builder  ")
    assert user_id.startswith("Bob-the-builder_") and "/" not in user_id and "." not in user_id
    assert json.loads((tmp_path / "user" / "users.json").read_text()) == {user_id: "Bob / the ../ builder"}
    assert UserManager(str(tmp_path / "user"), multi_user=True).users == {user_id: "Bob / the ../ builder"}


def test_duplicate_and_empty_usernames_are_refused(multi):
    multi.add_user("carol")
    with pytest.raises(ValueError, match="Duplicate"):
        multi.add_user(" carol ")
    with pytest.raises(ValueError, match="empty"):
        multi.add_user("   ")


def test_user_ids_in_users_json_that_could_be_paths_are_ignored(tmp_path):
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "users.json").write_text(json.dumps({"../escape": "x", "ok_1": "ok", "__system": "s"}))
    assert UserManager(str(tmp_path / "user"), multi_user=True).users == {"ok_1": "ok"}


def test_resolve_keeps_paths_inside_the_user_folder(tmp_path, single):
    inside = single.resolve("default", "workflows/../workflows/a.json")
    assert inside.relative == "workflows/a.json"
    assert inside.real == os.path.realpath(tmp_path / "user" / "default" / "workflows" / "a.json")
    for escaping in ("..", "../users.json", "workflows/../../x", "/etc/passwd", "../other/settings.json"):
        with pytest.raises(FileRequestError) as refused:
            single.resolve("default", escaping)
        assert refused.value.status == 403, escaping
    for malformed in ("", "a\\..\\b", "a\x00b", "a\nb"):
        with pytest.raises(FileRequestError) as refused:
            single.resolve("default", malformed)
        assert refused.value.status == 400, malformed


def test_a_symlink_leading_out_of_the_user_folder_is_refused(tmp_path, single):
    folder = tmp_path / "user" / "default"
    folder.mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "linkdir").symlink_to(tmp_path)
    (folder / "inner.txt").write_text("fine")
    (folder / "innerlink.txt").symlink_to(folder / "inner.txt")
    for name in ("link.txt", "linkdir/secret.txt", "linkdir"):
        with pytest.raises(FileRequestError) as refused:
            single.resolve("default", name)
        assert refused.value.status == 403
    assert single.resolve("default", "innerlink.txt").real == str((folder / "inner.txt").resolve())


def test_listings_leave_out_hidden_files_and_links_that_lead_out(tmp_path, single):
    folder = tmp_path / "user" / "default"
    (folder / "workflows" / "sub").mkdir(parents=True)
    (folder / "workflows" / "a.json").write_text("{}")
    (folder / "workflows" / "sub" / "b.json").write_text("{}")
    (folder / "workflows" / ".a.json.123.part").write_text("")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.json").write_text("{}")
    (folder / "workflows" / "out").symlink_to(tmp_path / "outside")
    (folder / "workflows" / "out.json").symlink_to(tmp_path / "outside" / "secret.json")
    (folder / "workflows" / "loop").symlink_to(folder / "workflows")
    workflows = single.resolve("default", "workflows")
    assert user_files.list_files(workflows, recurse=False) == ["a.json"]
    assert user_files.list_files(workflows, recurse=True) == ["a.json", "sub/b.json"]
    entries = user_files.list_entries(single.resolve("default", "workflows"))
    names = [(entry["type"], entry["path"]) for entry in entries]
    assert ("directory", "workflows/sub") in names and ("file", "workflows/sub/b.json") in names
    assert not any("out" in path.split("/")[-1] or "secret" in path for _, path in names)


def test_write_is_atomic_and_respects_overwrite(tmp_path, single):
    target = single.resolve("default", "workflows/deep/a.json")
    user_files.write_file(target, b'{"v": 1}', overwrite=True)
    with pytest.raises(FileRequestError) as refused:
        user_files.write_file(target, b'{"v": 2}', overwrite=False)
    assert refused.value.status == 409
    user_files.write_file(target, b'{"v": 3}', overwrite=True)
    folder = tmp_path / "user" / "default" / "workflows" / "deep"
    assert (folder / "a.json").read_bytes() == b'{"v": 3}'
    assert os.listdir(folder) == ["a.json"]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, single, monkeypatch):
    target = single.resolve("default", "a.json")
    user_files.write_file(target, b"old", overwrite=True)

    def crash(source, destination):
        raise OSError(5, "disk on fire")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(FileRequestError):
        user_files.write_file(target, b"new", overwrite=True)
    assert os.listdir(tmp_path / "user" / "default") == ["a.json"]
    assert (tmp_path / "user" / "default" / "a.json").read_bytes() == b"old"


def test_move_and_delete(tmp_path, single):
    source = single.resolve("default", "a.json")
    user_files.write_file(source, b"a", overwrite=True)
    user_files.write_file(single.resolve("default", "b.json"), b"b", overwrite=True)
    with pytest.raises(FileRequestError) as refused:
        user_files.move_file(source, single.resolve("default", "b.json"), overwrite=False)
    assert refused.value.status == 409
    user_files.move_file(source, single.resolve("default", "moved/c.json"), overwrite=False)
    assert (tmp_path / "user" / "default" / "moved" / "c.json").read_bytes() == b"a"
    with pytest.raises(FileRequestError) as missing:
        user_files.move_file(source, single.resolve("default", "d.json"), overwrite=True)
    assert missing.value.status == 404
    user_files.delete_file(single.resolve("default", "b.json"))
    with pytest.raises(FileRequestError) as missing:
        user_files.delete_file(single.resolve("default", "b.json"))
    assert missing.value.status == 404
    with pytest.raises(FileRequestError) as folder:
        user_files.delete_file(single.resolve("default", "moved"))
    assert folder.value.status == 409


def test_comfyui_filepath_face_returns_none_outside_the_folder(tmp_path, single):
    assert single.get_request_user_filepath(request_as(None), "../users.json") is None
    path = single.get_request_user_filepath(request_as(None), "workflows/a.json")
    assert path == os.path.realpath(tmp_path / "user" / "default" / "workflows" / "a.json")
    assert os.path.isdir(os.path.dirname(path))


def test_settings_merge_and_persist(tmp_path, single):
    settings = AppSettings(single)
    assert settings.read("default") == {}
    settings.update("default", {"Comfy.Locale": "en", "a": 1})
    settings.update("default", {"a": 2})
    assert AppSettings(UserManager(str(tmp_path / "user"), False)).read("default") == {"Comfy.Locale": "en", "a": 2}


def test_unreadable_settings_read_as_empty(tmp_path, single):
    folder = tmp_path / "user" / "default"
    folder.mkdir(parents=True)
    (folder / "comfy.settings.json").write_text("[1, 2")
    assert AppSettings(single).read("default") == {}
    (folder / "comfy.settings.json").write_text("[1, 2]")
    assert AppSettings(single).read("default") == {}
