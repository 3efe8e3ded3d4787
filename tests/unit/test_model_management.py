"""Model loading policy: patched clones share one model, LRU order, unloading restores weights; dtype flags."""

import torch

import comfy.model_management as model_management
from comfy.cli_args import args
from comfy.model_patcher import ModelPatcher


def patcher() -> ModelPatcher:
    model = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    return ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))


def test_loading_a_clone_with_patches_applies_them_and_loading_the_original_restores_the_weights():
    base = patcher()
    clone = base.clone()
    clone.add_patches({"weight": torch.ones(2, 2)}, strength_patch=0.5)
    model_management.load_models_gpu([clone])
    assert torch.equal(base.model.weight, torch.tensor([[1.5, 0.5], [0.5, 1.5]]))
    model_management.load_models_gpu([base])
    assert torch.equal(base.model.weight, torch.eye(2))
    model_management.unload_all_models()
    assert model_management.loaded_models() == []


def test_loaded_models_are_kept_most_recently_used_first():
    first, second = patcher(), patcher()
    model_management.load_models_gpu([first])
    model_management.load_models_gpu([second])
    model_management.load_models_gpu([first])
    assert model_management.loaded_models()[:2] == [first, second]
    model_management.unload_all_models()


def test_an_object_patch_replaces_an_attribute_only_while_its_clone_is_loaded():
    base = patcher()
    base.model.marker = "original"
    clone = base.clone()
    clone.add_object_patch("marker", "patched")
    model_management.load_models_gpu([clone])
    assert base.model.marker == "patched"
    model_management.unload_all_models()
    assert base.model.marker == "original"


def test_dtype_flags_choose_the_weight_dtypes(monkeypatch):
    cpu = torch.device("cpu")
    assert model_management.unet_dtype(cpu) == torch.float32
    monkeypatch.setattr(args, "bf16_unet", True, raising=False)
    assert model_management.unet_dtype(cpu) == torch.bfloat16
    monkeypatch.setattr(args, "fp16_vae", True, raising=False)
    assert model_management.vae_dtype(cpu) == torch.float16


def test_a_model_the_graph_no_longer_references_is_freed_and_forgotten():
    import gc
    import weakref

    loaded = patcher()
    model_ref = weakref.ref(loaded.model)
    model_management.load_models_gpu([loaded])
    assert model_management.loaded_models() == [loaded]
    del loaded
    gc.collect()
    assert model_ref() is None
    assert model_management.loaded_models() == []
