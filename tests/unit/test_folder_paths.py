"""folder_paths: default folders, search paths, cached listings, safe lookups, save paths and yaml config."""

from __future__ import annotations

import argparse
import logging
import os
import time

import pytest

import folder_paths


def touch(path, content: bytes = b"x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    return str(path)


def test_set_base_path_derives_every_default_folder_from_the_base(base):
    models = os.path.join(str(base), "models")
    assert folder_paths.base_path == str(base)
    assert folder_paths.models_dir == models
    assert list(folder_paths.folder_names_and_paths) == [
        "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision", "style_models",
        "embeddings", "diffusers", "vae_approx", "controlnet", "gligen", "upscale_models", "custom_nodes",
        "hypernetworks", "photomaker", "classifiers", "model_patches", "audio_encoders",
    ]
    assert folder_paths.get_folder_paths("text_encoders") == [os.path.join(models, "text_encoders"),
                                                              os.path.join(models, "clip")]
    assert folder_paths.get_folder_paths("diffusion_models") == [os.path.join(models, "unet"),
                                                                 os.path.join(models, "diffusion_models")]
    assert folder_paths.get_folder_paths("controlnet") == [os.path.join(models, "controlnet"),
                                                           os.path.join(models, "t2i_adapter")]
    assert folder_paths.folder_names_and_paths["custom_nodes"] == ([os.path.join(str(base), "custom_nodes")], set())
    assert folder_paths.folder_names_and_paths["configs"][1] == {".yaml"}
    assert folder_paths.folder_names_and_paths["diffusers"][1] == {"folder"}
    assert folder_paths.folder_names_and_paths["classifiers"][1] == {""}
    assert folder_paths.folder_names_and_paths["checkpoints"][1] == folder_paths.supported_pt_extensions
    assert folder_paths.get_output_directory() == os.path.join(str(base), "output")
    assert folder_paths.get_input_directory() == os.path.join(str(base), "input")
    assert folder_paths.get_temp_directory() == os.path.join(str(base), "temp")
    assert folder_paths.get_user_directory() == os.path.join(str(base), "user")


def test_supported_pt_extensions_match_comfyui():
    assert folder_paths.supported_pt_extensions == {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl",
                                                    ".sft"}


def test_legacy_unet_and_clip_names_map_to_current_folders(base, tmp_path):
    assert folder_paths.get_folder_paths("unet") == folder_paths.get_folder_paths("diffusion_models")
    folder_paths.add_model_folder_path("clip", str(tmp_path / "more_clip"))
    assert folder_paths.get_folder_paths("text_encoders")[-1] == str(tmp_path / "more_clip")
    assert "clip" not in folder_paths.folder_names_and_paths


def test_add_model_folder_path_appends_prepends_and_moves_only_with_is_default(base):
    folder_paths.add_model_folder_path("loras", "/extra/a")
    folder_paths.add_model_folder_path("loras", "/extra/b", is_default=True)
    assert folder_paths.get_folder_paths("loras")[0] == "/extra/b"
    assert folder_paths.get_folder_paths("loras")[-1] == "/extra/a"
    folder_paths.add_model_folder_path("loras", "/extra/a")
    assert folder_paths.get_folder_paths("loras").count("/extra/a") == 1
    assert folder_paths.get_folder_paths("loras")[-1] == "/extra/a"
    folder_paths.add_model_folder_path("loras", "/extra/a", is_default=True)
    assert folder_paths.get_folder_paths("loras")[:2] == ["/extra/a", "/extra/b"]


def test_add_model_folder_path_creates_unknown_folder_accepting_any_extension(base):
    folder_paths.add_model_folder_path("ipadapter", "/extra/ipadapter")
    assert folder_paths.folder_names_and_paths["ipadapter"] == (["/extra/ipadapter"], set())


def test_get_folder_paths_returns_a_copy_and_names_known_folders_for_unknown(base):
    folder_paths.get_folder_paths("vae").append("/mutated")
    assert "/mutated" not in folder_paths.get_folder_paths("vae")
    with pytest.raises(KeyError, match="Known folders: .*checkpoints"):
        folder_paths.get_folder_paths("nope")


def test_get_filename_list_is_recursive_filtered_sorted_deduplicated_and_skips_git(base, tmp_path):
    models = tmp_path / "models" / "checkpoints"
    touch(models / "b.safetensors")
    touch(models / "A.CKPT")
    touch(models / "sub" / "c.pt")
    touch(models / "notes.txt")
    touch(models / ".git" / "d.safetensors")
    extra = tmp_path / "elsewhere"
    touch(extra / "b.safetensors")
    touch(extra / "e.sft")
    folder_paths.add_model_folder_path("checkpoints", str(extra))
    assert folder_paths.get_filename_list("checkpoints") == sorted(
        ["A.CKPT", "b.safetensors", os.path.join("sub", "c.pt"), "e.sft"])


def test_get_filename_list_of_missing_folders_is_empty(base):
    assert folder_paths.get_filename_list("loras") == []


def test_get_filename_list_reuses_cache_until_a_folder_changes(base, tmp_path, monkeypatch):
    folder = tmp_path / "models" / "vae"
    touch(folder / "one.safetensors")
    calls = []
    real_search = folder_paths.recursive_search
    monkeypatch.setattr(folder_paths, "recursive_search", lambda *a, **k: calls.append(a) or real_search(*a, **k))
    assert folder_paths.get_filename_list("vae") == ["one.safetensors"]
    searched = len(calls)
    assert folder_paths.get_filename_list("vae") == ["one.safetensors"]
    assert len(calls) == searched
    touch(folder / "two.safetensors")
    os.utime(folder, (time.time() + 5, time.time() + 5))
    assert folder_paths.get_filename_list("vae") == ["one.safetensors", "two.safetensors"]
    assert len(calls) > searched


def test_get_filename_list_sees_a_search_folder_that_appears_later(base, tmp_path):
    assert folder_paths.get_filename_list("loras") == []
    touch(tmp_path / "models" / "loras" / "new.safetensors")
    assert folder_paths.get_filename_list("loras") == ["new.safetensors"]


def test_cache_helper_pins_listings_inside_its_block_only(base, tmp_path):
    folder = tmp_path / "models" / "loras"
    touch(folder / "one.safetensors")
    with folder_paths.cache_helper:
        assert folder_paths.get_filename_list("loras") == ["one.safetensors"]
        touch(folder / "two.safetensors")
        os.utime(folder, (time.time() + 5, time.time() + 5))
        assert folder_paths.get_filename_list("loras") == ["one.safetensors"]
    assert folder_paths.cache_helper.cache == {}
    assert folder_paths.get_filename_list("loras") == ["one.safetensors", "two.safetensors"]


def test_recursive_search_follows_symlinks_without_looping(tmp_path):
    root = tmp_path / "root"
    touch(root / "a.bin")
    os.symlink(root, root / "loop")
    files, folders = folder_paths.recursive_search(str(root))
    assert files == ["a.bin"]
    assert str(root) in folders


def test_filter_files_extensions_is_case_insensitive_and_empty_set_keeps_all():
    files = ["b.PT", "a.safetensors", "c.txt"]
    assert folder_paths.filter_files_extensions(files, {".pt", ".safetensors"}) == ["a.safetensors", "b.PT"]
    assert folder_paths.filter_files_extensions(files, set()) == ["a.safetensors", "b.PT", "c.txt"]


def test_filter_files_content_types_keeps_matching_mime_families_in_order():
    files = ["z.png", "clip.mp4", "x.webp", "song.wav", "mesh.fbx", "notes.unknownext", "a.JPG"]
    assert folder_paths.filter_files_content_types(files, ["image"]) == ["z.png", "x.webp", "a.JPG"]
    assert folder_paths.filter_files_content_types(files, ["video", "model"]) == ["clip.mp4", "mesh.fbx"]


def test_get_full_path_finds_first_existing_file_across_folders(base, tmp_path):
    second = tmp_path / "second"
    path = touch(second / "sub" / "m.safetensors")
    folder_paths.add_model_folder_path("checkpoints", str(second))
    assert folder_paths.get_full_path("checkpoints", "sub/m.safetensors") == path
    first = touch(tmp_path / "models" / "checkpoints" / "sub" / "m.safetensors")
    assert folder_paths.get_full_path("checkpoints", "sub/m.safetensors") == first
    assert folder_paths.get_full_path("checkpoints", "missing.safetensors") is None
    assert folder_paths.get_full_path("no_such_folder", "m.safetensors") is None


def test_get_full_path_cannot_climb_out_of_its_folder(base, tmp_path):
    touch(tmp_path / "models" / "secret.safetensors")
    touch(tmp_path / "secret.safetensors")
    assert folder_paths.get_full_path("checkpoints", "../secret.safetensors") is None
    assert folder_paths.get_full_path("checkpoints", "../../secret.safetensors") is None
    assert folder_paths.get_full_path("checkpoints", str(tmp_path / "secret.safetensors")) is None
    assert folder_paths.get_full_path("checkpoints", "..") is None
    inside = touch(tmp_path / "models" / "checkpoints" / "secret.safetensors")
    assert folder_paths.get_full_path("checkpoints", "../../secret.safetensors") == inside


def test_get_full_path_or_raise_names_folder_and_file(base):
    with pytest.raises(FileNotFoundError, match="Model in folder 'vae' with filename 'x.pt' not found."):
        folder_paths.get_full_path_or_raise("vae", "x.pt")


def test_annotated_names_select_output_input_or_temp_directory(base):
    assert folder_paths.annotated_filepath("sub/x.png [output]") == ("sub/x.png", folder_paths.get_output_directory())
    assert folder_paths.annotated_filepath("x.png [temp]") == ("x.png", folder_paths.get_temp_directory())
    assert folder_paths.annotated_filepath("x.png [input]") == ("x.png", folder_paths.get_input_directory())
    assert folder_paths.annotated_filepath("x.png") == ("x.png", None)
    assert folder_paths.get_annotated_filepath("x.png") == os.path.join(folder_paths.get_input_directory(), "x.png")
    assert folder_paths.get_annotated_filepath("x.png", "/d") == os.path.join("/d", "x.png")
    assert folder_paths.get_annotated_filepath("x.png [output]", "/d") == os.path.join(
        folder_paths.get_output_directory(), "x.png")


def test_exists_annotated_filepath_checks_the_annotated_directory(base):
    touch(os.path.join(folder_paths.get_output_directory(), "o.png"))
    assert folder_paths.exists_annotated_filepath("o.png [output]")
    assert not folder_paths.exists_annotated_filepath("o.png")


def test_get_directory_by_type_knows_only_output_temp_and_input(base):
    assert folder_paths.get_directory_by_type("output") == folder_paths.get_output_directory()
    assert folder_paths.get_directory_by_type("temp") == folder_paths.get_temp_directory()
    assert folder_paths.get_directory_by_type("input") == folder_paths.get_input_directory()
    assert folder_paths.get_directory_by_type("user") is None


def test_directory_setters_change_what_getters_return(base, tmp_path):
    folder_paths.set_output_directory(str(tmp_path / "o"))
    folder_paths.set_input_directory(str(tmp_path / "i"))
    folder_paths.set_temp_directory(str(tmp_path / "t"))
    folder_paths.set_user_directory(str(tmp_path / "u"))
    assert [folder_paths.get_output_directory(), folder_paths.get_input_directory(),
            folder_paths.get_temp_directory(), folder_paths.get_user_directory()] == [
        str(tmp_path / n) for n in ("o", "i", "t", "u")]


def test_get_save_image_path_counts_past_the_highest_existing_file(base, tmp_path):
    output = str(tmp_path / "out")
    for name in ("ComfyUI_00001_.png", "ComfyUI_00007_.png", "ComfyUI_x.png", "ComfyUIx_00020_.png",
                 "Other_00009_.png"):
        touch(os.path.join(output, name))
    assert folder_paths.get_save_image_path("ComfyUI", output) == (output + os.sep, "ComfyUI", 8, "", "ComfyUI")


def test_get_save_image_path_starts_at_one_and_creates_the_subfolder(base, tmp_path):
    output = str(tmp_path / "out")
    os.makedirs(output)
    folder, filename, counter, subfolder, prefix = folder_paths.get_save_image_path("runs/day1/img", output)
    assert (filename, counter, subfolder, prefix) == ("img", 1, os.path.join("runs", "day1"), "runs/day1/img")
    assert folder == os.path.join(output, "runs", "day1")
    assert os.path.isdir(folder)


def test_get_save_image_path_substitutes_size_and_date_variables(base, tmp_path):
    output = str(tmp_path / "out")
    os.makedirs(output)
    year = str(time.localtime().tm_year)
    _, filename, _, subfolder, prefix = folder_paths.get_save_image_path("%year%/img_%width%x%height%", output, 640, 480)
    assert prefix == f"{year}/img_640x480"
    assert (subfolder, filename) == (year, "img_640x480")


def test_get_save_image_path_refuses_to_leave_the_output_folder(base, tmp_path):
    output = str(tmp_path / "out")
    os.makedirs(output)
    with pytest.raises(ValueError, match="Saving image outside the output folder is not allowed."):
        folder_paths.get_save_image_path("../escape/img", output)
    with pytest.raises(ValueError, match="Saving image outside the output folder is not allowed."):
        folder_paths.get_save_image_path(str(tmp_path / "abs" / "img"), output)
    assert not os.path.exists(tmp_path / "escape")


def test_load_extra_path_config_handles_sections_base_path_defaults_and_multiline(base, tmp_path, monkeypatch,
                                                                                    caplog):
    monkeypatch.setenv("KILN_TEST_MODELS", str(tmp_path / "env_models"))
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "extra.yaml").write_text(
        "comfyui:\n"
        "  base_path: ../shared\n"
        "  is_default: true\n"
        "  checkpoints: |\n"
        "    models/ckpt_a\n"
        "    models/ckpt_b\n"
        "  custom_nodes: nodes_here\n"
        "other:\n"
        "  base_path: $KILN_TEST_MODELS\n"
        "  loras: loras\n"
        "  ipadapter: ipadapter\n"
        "no_base:\n"
        "  vae: relative_vae\n"
        "empty_section:\n"
    )
    with caplog.at_level(logging.INFO):
        folder_paths.load_extra_path_config(str(config_dir / "extra.yaml"))
    shared = str(tmp_path / "shared")
    checkpoints = folder_paths.get_folder_paths("checkpoints")
    assert checkpoints[:2] == [os.path.join(shared, "models", "ckpt_b"), os.path.join(shared, "models", "ckpt_a")]
    assert folder_paths.get_folder_paths("custom_nodes")[0] == os.path.join(shared, "nodes_here")
    assert folder_paths.get_folder_paths("loras")[-1] == str(tmp_path / "env_models" / "loras")
    assert folder_paths.folder_names_and_paths["ipadapter"] == ([str(tmp_path / "env_models" / "ipadapter")], set())
    assert folder_paths.get_folder_paths("vae")[-1] == str(config_dir / "relative_vae")
    assert f"Adding extra search path checkpoints {os.path.join(shared, 'models', 'ckpt_a')}" in caplog.text


def test_load_extra_path_config_expands_home_in_base_path(base, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "extra.yaml").write_text("a:\n  base_path: ~/models\n  loras: l\n")
    folder_paths.load_extra_path_config(str(tmp_path / "extra.yaml"))
    assert folder_paths.get_folder_paths("loras")[-1] == str(tmp_path / "home" / "models" / "l")


def test_load_extra_path_config_rejects_a_section_that_is_not_a_mapping(base, tmp_path):
    (tmp_path / "bad.yaml").write_text("comfyui: just a string\n")
    with pytest.raises(ValueError, match="section 'comfyui' must be a mapping"):
        folder_paths.load_extra_path_config(str(tmp_path / "bad.yaml"))


def test_apply_cli_args_applies_directories_configs_and_output_model_folders_in_order(base, tmp_path):
    config = tmp_path / "extra.yaml"
    config.write_text(f"x:\n  checkpoints: {tmp_path / 'yaml_ckpts'}\n")
    args = argparse.Namespace(
        base_directory=str(tmp_path / "base"), extra_model_paths_config=[[str(config)]],
        output_directory=str(tmp_path / "o"), input_directory=str(tmp_path / "i"),
        user_directory=str(tmp_path / "u"), temp_directory=str(tmp_path / "t"))
    folder_paths.apply_cli_args(args)
    assert folder_paths.base_path == str(tmp_path / "base")
    assert folder_paths.get_folder_paths("checkpoints") == [
        str(tmp_path / "base" / "models" / "checkpoints"), str(tmp_path / "yaml_ckpts"),
        str(tmp_path / "o" / "checkpoints")]
    assert folder_paths.get_folder_paths("text_encoders")[-1] == str(tmp_path / "o" / "clip")
    for name in ("vae", "diffusion_models", "loras"):
        assert folder_paths.get_folder_paths(name)[-1] == str(tmp_path / "o" / name)
    assert folder_paths.get_output_directory() == str(tmp_path / "o")
    assert folder_paths.get_input_directory() == str(tmp_path / "i")
    assert folder_paths.get_user_directory() == str(tmp_path / "u")
    assert folder_paths.get_temp_directory() == str(tmp_path / "t" / "temp")
    assert os.path.isdir(tmp_path / "o") and os.path.isdir(tmp_path / "i")


def test_apply_cli_args_without_flags_keeps_the_base_directories(base, tmp_path):
    folder_paths.apply_cli_args(argparse.Namespace())
    assert folder_paths.get_output_directory() == str(tmp_path / "output")
    assert folder_paths.get_folder_paths("loras")[-1] == str(tmp_path / "output" / "loras")


def test_cleanup_temp_directory_removes_the_temp_folder(base, tmp_path):
    touch(os.path.join(folder_paths.get_temp_directory(), "x.png"))
    folder_paths.cleanup_temp_directory()
    assert not os.path.exists(folder_paths.get_temp_directory())
