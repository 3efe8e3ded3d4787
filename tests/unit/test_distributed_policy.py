"""The parts of Kiln-on-Ray that need no Ray: which worker runs which job (`affinity`), and files received from
workers saved under free names with every reference rewritten (`transfer`)."""

from __future__ import annotations

import pytest

import folder_paths
from comfy_execution.distributed import affinity, transfer
from comfy_execution.distributed.affinity import FreeWorker, PendingJob


def job(prompt_id: str, *models: str, waited: float = 0.0, size: int = 0) -> PendingJob:
    return PendingJob(prompt_id, tuple(models), waited, size)


def worker(name: str, *held: str, free_memory: int = 10, jobs_run: int = 0) -> FreeWorker:
    return FreeWorker(name, frozenset(held), free_memory, jobs_run)


def test_required_models_are_the_loader_inputs_that_name_files():
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
        "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "l.safetensors", "model": ["1", 0]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a.safetensors", "clip": ["1", 1]}},
        "4": {"class_type": "UNETLoader", "inputs": {"unet_name": ["9", 0]}},  # computed: unknown
        "5": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5.safetensors", "clip_name2": "l.sft"}},
    }
    assert affinity.required_models(prompt) == ("checkpoints/a.safetensors", "loras/l.safetensors",
                                                "text_encoders/l.sft", "text_encoders/t5.safetensors")


def test_a_free_worker_takes_the_oldest_job_whose_models_it_holds():
    pending = [job("1", "ckpt/b"), job("2", "ckpt/a"), job("3", "ckpt/a")]
    chosen = affinity.choose(pending, [worker("w0", "ckpt/a")], frozenset({"ckpt/b"}), affinity_wait=30)
    assert chosen == (pending[1], worker("w0", "ckpt/a"))


def test_a_worker_whose_models_others_still_need_serves_them_before_loading_another():
    # w0 holds c, which job 3 needs: it runs job 3 rather than loading b for job 1 (whose holder is busy).
    pending = [job("1", "ckpt/b"), job("3", "ckpt/c")]
    free = [worker("w0", "ckpt/c")]
    assert affinity.choose(pending, free, frozenset({"ckpt/b"}), affinity_wait=3600)[0].prompt_id == "3"
    # Once nobody waits for c, w0 would only idle: it takes job 1 and loads b.
    assert affinity.choose(pending[:1], free, frozenset({"ckpt/b"}), affinity_wait=3600)[0].prompt_id == "1"


def test_an_empty_worker_takes_a_job_whose_holder_is_busy_at_once():
    pending = [job("1", "ckpt/a"), job("2", "ckpt/a")]
    chosen = affinity.choose(pending, [worker("w1")], frozenset({"ckpt/a"}), affinity_wait=3600)
    assert chosen == (pending[0], worker("w1"))


def test_models_nobody_holds_go_to_an_empty_worker_with_the_best_memory_fit():
    pending = [job("1", "ckpt/c", size=6)]
    free = [worker("holds-a", "ckpt/a", free_memory=7), worker("big", free_memory=100),
            worker("fits", free_memory=8), worker("small", free_memory=5)]
    assert affinity.choose(pending, free, frozenset(), affinity_wait=30)[1].name == "fits"
    # Nothing fits: the largest; a worker that holds other models is used only when no empty one is free.
    pending = [job("1", "ckpt/c", size=1000)]
    assert affinity.choose(pending, free, frozenset(), affinity_wait=30)[1].name == "big"
    assert affinity.choose(pending, [worker("holds-a", "ckpt/a")], frozenset(), affinity_wait=30)[1].name == "holds-a"


def test_a_job_without_models_runs_on_any_free_worker_and_nothing_happens_without_jobs_or_workers():
    assert affinity.choose([job("1")], [worker("w0", "ckpt/a")], frozenset(), affinity_wait=30)[0].prompt_id == "1"
    assert affinity.choose([], [worker("w0")], frozenset(), affinity_wait=30) is None
    assert affinity.choose([job("1")], [], frozenset(), affinity_wait=30) is None


@pytest.fixture
def folders(tmp_path):
    previous = (folder_paths.get_output_directory(), folder_paths.get_temp_directory(),
                folder_paths.get_input_directory())
    for name, setter in (("output", folder_paths.set_output_directory), ("temp", folder_paths.set_temp_directory),
                         ("input", folder_paths.set_input_directory)):
        (tmp_path / name).mkdir()
        setter(str(tmp_path / name))
    yield tmp_path
    folder_paths.set_output_directory(previous[0])
    folder_paths.set_temp_directory(previous[1])
    folder_paths.set_input_directory(previous[2])


def test_received_files_get_the_next_free_counter_and_references_follow(folders):
    (folders / "output" / "Kiln_00007_.png").write_bytes(b"old")
    received = transfer.ReceivedFiles()
    assert received.save("output", "", "Kiln_00001_.png", b"new") == "Kiln_00001_.png"
    assert received.save("output", "", "Kiln_00001_.png", b"second job") == "Kiln_00008_.png"
    assert received.save("output", "sub", "plain.bin", b"x") == "plain.bin"
    assert received.save("output", "sub", "plain.bin", b"y") == "plain_1.bin"
    assert (folders / "output" / "Kiln_00008_.png").read_bytes() == b"second job"
    message = {"output": {"images": [{"filename": "Kiln_00001_.png", "subfolder": "", "type": "output"},
                                     {"filename": "plain.bin", "subfolder": "sub", "type": "output"},
                                     {"filename": "other.png", "subfolder": "", "type": "temp"}]}}
    rewritten = received.rewrite(message)
    assert [image["filename"] for image in rewritten["output"]["images"]] == ["Kiln_00008_.png", "plain_1.bin",
                                                                             "other.png"]
    assert message["output"]["images"][0]["filename"] == "Kiln_00001_.png"  # the original is left alone


@pytest.mark.parametrize(("type_name", "subfolder", "filename"), [
    ("output", "../escape", "x.png"), ("output", "", "../x.png"), ("input", "", "x.png"), ("output", "", ".."),
    ("output", "/etc", "x.png")])
def test_a_file_from_a_worker_never_lands_outside_the_output_and_temp_folders(folders, type_name, subfolder, filename):
    with pytest.raises(ValueError):
        transfer.ReceivedFiles().save(type_name, subfolder, filename, b"x")
    assert not (folders / "x.png").exists() and not (folders / "escape").exists()


def test_input_files_are_the_input_folder_files_the_prompt_names(folders):
    (folders / "input" / "photo.png").write_bytes(b"png")
    (folders / "input" / "clipspace").mkdir()
    (folders / "input" / "clipspace" / "mask.png").write_bytes(b"mask")
    (folders / "secret.txt").write_bytes(b"no")
    prompt = {"1": {"class_type": "LoadImage", "inputs": {"image": "photo.png"}},
              "2": {"class_type": "LoadImage", "inputs": {"image": "clipspace/mask.png [input]"}},
              "3": {"class_type": "LoadImage", "inputs": {"image": "../secret.txt"}},
              "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "not a file"}},
              "5": {"class_type": "LoadImage", "inputs": {"image": "photo.png [output]"}}}
    assert transfer.input_files(prompt) == {"photo.png": b"png", "clipspace/mask.png": b"mask"}
    with pytest.raises(ValueError):
        transfer.input_files(prompt, limit_bytes=4)


def test_model_files_of_remote_workers_are_listed_and_validate_but_are_not_local(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "here.safetensors").write_bytes(b"x")
    previous = folder_paths.folder_names_and_paths.get("checkpoints")
    folder_paths.folder_names_and_paths["checkpoints"] = ([str(checkpoints)], {".safetensors"})
    folder_paths.filename_list_cache.pop("checkpoints", None)
    try:
        folder_paths.set_remote_filenames("worker-1", {"checkpoints": ["far.safetensors", "here.safetensors"]})
        assert folder_paths.get_filename_list("checkpoints") == ["far.safetensors", "here.safetensors"]
        assert folder_paths.get_local_filename_list("checkpoints") == ["here.safetensors"]
        assert folder_paths.get_full_path("checkpoints", "far.safetensors") is None
        assert folder_paths.local_model_lists()["checkpoints"] == ["here.safetensors"]
        folder_paths.set_remote_filenames("worker-1", {})
        assert folder_paths.get_filename_list("checkpoints") == ["here.safetensors"]
    finally:
        folder_paths.set_remote_filenames("worker-1", {})
        if previous is not None:
            folder_paths.folder_names_and_paths["checkpoints"] = previous
        folder_paths.filename_list_cache.pop("checkpoints", None)
