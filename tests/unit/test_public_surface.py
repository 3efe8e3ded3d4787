"""Kiln's public surface against ComfyUI 0.3.64's: every public name of `nodes`, `comfy.*`, `comfy_extras.*`,
`comfy_api.*`, `comfy_execution.*`, `folder_paths`, `latent_preview`, `node_helpers` and `server` is importable
with the same kind and takes ComfyUI's parameters.

The names come from tests/fixtures/comfyui/public_names_0.3.64.json (recorded by tools/oracle/record_public_names.py
from ComfyUI's source with `ast`). Names Kiln cannot honour are faces from comfy/unsupported.py: importable, with
ComfyUI's signature, raising UnsupportedError when used.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from types import ModuleType

import pytest

from comfy.unsupported import UnsupportedError

NAMES_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui" / "public_names_0.3.64.json"

_KIND_NAMES = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}

# Kiln names whose parameters differ from ComfyUI's on purpose, and why. A pack calling them ComfyUI's way by
# keyword may fail; none of the eight packs of issue 14 calls them with the differing parameters.
KNOWN_SIGNATURE_DIFFERENCES = {
    ("comfy.model_base", "BaseModel"): "wraps a diffusers network, not a model_config-built UNet",
    ("comfy.model_base", "Flux"): "wraps a diffusers network",
    ("comfy.model_base", "WAN21"): "wraps a diffusers network",
    ("comfy.model_base", "WAN22"): "wraps a diffusers network",
    ("comfy.model_base", "Chroma"): "wraps a diffusers network",
    ("comfy.model_base", "SD15_instructpix2pix"): "wraps a diffusers network",
    ("comfy.model_base", "SD3"): "wraps a diffusers network",
    ("comfy.model_base", "SDXL"): "wraps a diffusers network",
    ("comfy.model_base", "SDXLRefiner"): "wraps a diffusers network",
    ("comfy.model_base", "SDXL_instructpix2pix"): "wraps a diffusers network",
    ("comfy.sd", "VAE"): "wraps a diffusers autoencoder, built by comfy.sd's loaders",
    ("comfy.sd", "load_state_dict_guess_config"): "takes the source name first, for Kiln's error messages",
    ("comfy.text_encoders.sd3_clip", "SD3ClipModel"): "transformers models, configured by family",
    ("comfy.text_encoders.sd3_clip", "T5XXLTokenizer"): "takes the tokenizer path first",
    ("comfy.text_encoders.t5", "T5DenseActDense"): "configured from a transformers T5 config",
    ("comfy.text_encoders.t5", "T5DenseGatedActDense"): "configured from a transformers T5 config",
    ("comfy.extra_samplers.uni_pc", "UniPC"): "Kiln's UniPC takes an eps function",
    ("comfy.model_detection", "detect_unet_config"): "reads diffusers-layout state dicts too",
    ("comfy.samplers", "apply_empty_x_to_equal_area"): "no uncond_fill_func",
    ("comfy.samplers", "calculate_start_end_timesteps"): "takes the model's sampling object",
    ("comfy.samplers", "get_area_and_mult"): "takes sigma, not a timestep",
    ("comfy.samplers", "process_conds"): "Kiln's conds need no device or latent here",
    ("comfy.k_diffusion.sampling", "BatchedBrownianTree"): "takes cpu= instead of **kwargs",
    ("comfy_extras.nodes_model_merging", "save_checkpoint"): "Kiln's writer takes the path and metadata",
    ("comfy_execution.progress", "ProgressRegistry"): "takes the run's event sink",
    ("comfy_execution.progress", "reset_progress_state"): "takes the run's event sink",
}


# Names ComfyUI 0.3.64's package `__init__` files re-export from their submodules (the recorded list holds only
# the names a module defines itself); packs import them from the package.
PACKAGE_REEXPORTS = {
    "comfy.comfy_types": ["IO", "InputTypeDict", "ComfyNodeABC", "CheckLazyMixin", "FileLocator"],
    "comfy.weight_adapter": ["WeightAdapterBase", "WeightAdapterTrainBase", "LoRAAdapter", "LoHaAdapter",
                             "LoKrAdapter", "GLoRAAdapter", "OFTAdapter", "BOFTAdapter"],
    "comfy_api.input": ["ImageInput", "AudioInput", "MaskInput", "LatentInput", "VideoInput"],
    "comfy_api.input_impl": ["VideoFromFile", "VideoFromComponents"],
    "comfy_api.util": ["VideoContainer", "VideoCodec", "VideoComponents"],
    "comfy_api.torch_helpers": ["set_torch_compile_wrapper"],
    "comfy_api.latest": ["io", "ui", "ComfyExtension"],
}


def recorded_names() -> dict[str, dict[str, dict]]:
    return json.loads(NAMES_FILE.read_text(encoding="utf-8"))["modules"]


def kind_of(value: object) -> str:
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    return "constant"


def surface_problems(names: dict[str, dict[str, dict]]) -> tuple[list[str], dict[str, ModuleType]]:
    """Every module that does not import and every name that is absent or of another kind; and the modules."""
    problems: list[str] = []
    modules: dict[str, ModuleType] = {}
    for module_name, module_facts in sorted(names.items()):
        try:
            modules[module_name] = module = importlib.import_module(module_name)
        except Exception as error:  # noqa: BLE001 - every failure is a finding
            problems.append(f"{module_name}: does not import ({error!r})")
            continue
        for name, fact in sorted(module_facts.items()):
            if not hasattr(module, name):
                problems.append(f"{module_name}.{name}: missing ({fact['kind']})")
            elif fact["kind"] != "constant" and kind_of(getattr(module, name)) != fact["kind"]:
                problems.append(f"{module_name}.{name}: a {kind_of(getattr(module, name))}, ComfyUI's is a "
                                f"{fact['kind']}")
    return problems, modules


def signature_problem(value: object, fact: dict) -> str | None:
    """Why `value` cannot be called with ComfyUI's parameters `fact` (None when it can): ComfyUI's parameters
    must come first, in order, with the same names and kinds; Kiln may add parameters with defaults after them."""
    wanted = fact["parameters"] if fact["kind"] == "function" else fact["init"]
    target = value if fact["kind"] == "function" else value.__init__
    if wanted is None:
        return None
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return "has no readable signature"
    if fact["kind"] == "class" and wanted and wanted[0][0] == "self" and (not parameters
                                                                         or parameters[0].name != "self"):
        wanted = wanted[1:]
    got = [[parameter.name, _KIND_NAMES[parameter.kind]] for parameter in parameters]
    if got[:len(wanted)] != [entry[:2] for entry in wanted]:
        return f"takes ({', '.join(name for name, _ in got)}), ComfyUI's takes ({', '.join(e[0] for e in wanted)})"
    extra = parameters[len(wanted):]
    if any(parameter.default is parameter.empty and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                                       inspect.Parameter.KEYWORD_ONLY)
           for parameter in extra):
        return "adds required parameters after ComfyUI's"
    return None


@pytest.fixture(scope="module")
def surface() -> tuple[dict[str, dict[str, dict]], list[str], dict[str, ModuleType]]:
    names = recorded_names()
    problems, modules = surface_problems(names)
    return names, problems, modules


def test_the_recorded_list_holds_comfyuis_public_names():
    names = recorded_names()
    assert len(names) == 285
    assert sum(len(module) for module in names.values()) == 2458


def test_every_public_name_of_comfyui_is_importable_from_kiln_with_its_kind(surface):
    _, problems, _ = surface
    assert not problems, f"{len(problems)} public names differ from ComfyUI 0.3.64's:\n" + "\n".join(problems)


def test_packages_re_export_what_comfyuis_packages_re_export():
    missing = [f"{package}.{name}" for package, names in PACKAGE_REEXPORTS.items()
               for name in names if not hasattr(importlib.import_module(package), name)]
    assert not missing


def test_functions_and_classes_take_comfyuis_parameters(surface):
    names, _, modules = surface
    problems = []
    for module_name, module in modules.items():
        for name, fact in names[module_name].items():
            if fact["kind"] == "constant" or (module_name, name) in KNOWN_SIGNATURE_DIFFERENCES:
                continue
            value = getattr(module, name, None)
            if value is not None and (problem := signature_problem(value, fact)):
                problems.append(f"{module_name}.{name}: {problem}")
    assert not problems, "\n".join(problems)


def test_every_listed_signature_difference_is_still_one():
    names = recorded_names()
    stale = [f"{module}.{name}" for module, name in KNOWN_SIGNATURE_DIFFERENCES
             if signature_problem(getattr(importlib.import_module(module), name), names[module][name]) is None]
    assert not stale, "now take ComfyUI's parameters; drop them from KNOWN_SIGNATURE_DIFFERENCES"


def test_the_surface_check_reports_a_missing_name_a_wrong_kind_and_a_missing_module():
    problems, _ = surface_problems({
        "comfy.utils": {"no_such_helper": {"kind": "function"}, "ProgressBar": {"kind": "function"}},
        "comfy.no_such_module": {"x": {"kind": "constant"}},
    })
    assert problems[0].startswith("comfy.no_such_module: does not import")
    assert problems[1] == "comfy.utils.ProgressBar: a class, ComfyUI's is a function"
    assert problems[2] == "comfy.utils.no_such_helper: missing (function)"


def test_the_signature_check_reports_renamed_and_added_required_parameters():
    def renamed(model, steps): ...

    def added(model, sigmas, strength): ...

    fact = {"kind": "function", "parameters": [["model", "positional", False], ["sigmas", "positional", False]]}
    assert signature_problem(renamed, fact) == "takes (model, steps), ComfyUI's takes (model, sigmas)"
    assert signature_problem(added, fact) == "adds required parameters after ComfyUI's"


def test_unsupported_faces_fail_clearly_when_used_and_only_then():
    import comfy.ldm.wan.model as wan_model
    import comfy.utils

    assert inspect.isclass(wan_model.WanModel)

    class PackSubclass(wan_model.WanModel):  # declaring a subclass, as packs do at import, works
        pass

    with pytest.raises(UnsupportedError, match="comfy.ldm.wan.model.WanModel is not implemented in Kiln"):
        PackSubclass()
    assert list(inspect.signature(wan_model.sinusoidal_embedding_1d).parameters) == ["dim", "position"]
    with pytest.raises(UnsupportedError, match="sinusoidal_embedding_1d"):
        wan_model.sinusoidal_embedding_1d(4, None)
    with pytest.raises(UnsupportedError, match="UNET_MAP_BASIC"):
        list(comfy.utils.UNET_MAP_BASIC)
    with pytest.raises(UnsupportedError, match="UNET_MAP_BASIC"):
        comfy.utils.UNET_MAP_BASIC.items()
    # code that scans modules (hasattr, getattr with a default) sees an attribute-less value, not an error
    assert getattr(comfy.utils.UNET_MAP_BASIC, "__kiln_marker__", None) is None


def test_the_faces_of_comfy_extras_register_no_nodes():
    import comfy_extras.nodes_cosmos as nodes_cosmos
    import comfy_extras.nodes_wan as nodes_wan
    from comfy_execution.node_loading import module_node_classes

    assert module_node_classes(nodes_cosmos) == {}
    # in a module with real nodes, the faces beside them are not registered either
    assert set(module_node_classes(nodes_wan)) == {"WanImageToVideo", "WanFirstLastFrameToVideo", "WanFunInpaintToVideo",
                                                   "Wan22ImageToVideoLatent", "TrimVideoLatent"}


def test_the_faces_packs_name_in_the_issue_are_real(tmp_path):
    """Names issue 14 lists as used by packs when nodes run, implemented rather than faced."""
    import torch
    from PIL import Image

    import comfy.float
    import comfy.latent_formats
    from comfy.k_diffusion.utils import FolderOfImages

    Image.new("RGB", (4, 3), (255, 0, 0)).save(tmp_path / "b.png")
    (tmp_path / "sub").mkdir()
    Image.new("L", (2, 2), 128).save(tmp_path / "sub" / "a.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    folder = FolderOfImages(tmp_path)
    assert len(folder) == 2 and [path.name for path in folder.paths] == ["b.png", "a.jpg"]
    (image,) = folder[1]
    assert image.mode == "RGB" and image.size == (2, 2)

    playground = comfy.latent_formats.SDXL_Playground_2_5()
    latent = torch.randn(1, 4, 2, 2)
    assert torch.allclose(playground.process_out(playground.process_in(latent)), latent, atol=1e-5)
    assert torch.allclose(playground.process_in(playground.latents_mean.expand(1, 4, 2, 2)), torch.zeros(1, 4, 2, 2))
    assert comfy.latent_formats.SC_Prior.latent_channels == 16 and len(comfy.latent_formats.SC_Prior.latent_rgb_factors) == 16
    assert comfy.latent_formats.SC_B().process_in(torch.ones(1)) == pytest.approx(1 / 0.43)
    assert comfy.latent_formats.SD_X4().scale_factor == 0.08333

    values = torch.randn(64, 8) * 3
    generator = torch.Generator().manual_seed(5)
    rounded = comfy.float.manual_stochastic_round_to_float8(values, torch.float8_e4m3fn, generator)
    assert rounded.dtype == torch.float16
    assert torch.equal(rounded.to(torch.float8_e4m3fn).to(torch.float16), rounded)  # fp8 values already
    # the same draws as the seeded stochastic_rounding ComfyUI applies to patched fp8 weights
    assert torch.equal(rounded.to(torch.float8_e4m3fn).float(),
                       comfy.float.stochastic_rounding(values, torch.float8_e4m3fn, seed=5).float())
    with pytest.raises(ValueError):
        comfy.float.manual_stochastic_round_to_float8(values, torch.bfloat16)
    fraction = comfy.float.calc_mantissa(torch.tensor([1.5, 0.001], dtype=torch.float16),
                                         torch.tensor([7.0, 0.0], dtype=torch.float16),
                                         torch.tensor([True, False]), 3, 7, generator)
    assert fraction[0] == 0.5  # 1.5 = 2^0 * (1 + 4/8): exactly on a step, the draw cannot lift it
    assert fraction[1] in (0.0, 0.125)  # 0.001 is 0.512 subnormal steps of 2^-9: rounds to step 0 or 1


def test_memory_queries_and_empty_image_take_comfyuis_arguments():
    import torch

    import comfy.model_management as model_management
    import nodes

    cpu = torch.device("cpu")
    free, torch_free = model_management.get_free_memory(cpu, torch_free_too=True)
    total, torch_total = model_management.get_total_memory(dev=cpu, torch_total_too=True)
    assert free == torch_free > 0  # one read of the system's free memory, which changes between reads
    assert total == torch_total == model_management.get_total_memory(cpu) > 0
    (image,) = nodes.EmptyImage(device="cpu").generate(4, 2, 1, 0xFF0000)
    assert image.shape == (1, 2, 4, 3) and image[0, 0, 0].tolist() == [1.0, 0.0, 0.0]
