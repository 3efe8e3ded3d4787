"""Control files are recognised from their keys and shapes alone, at full size (`meta` tensors, nothing
allocated): the format of each (lllyasviel's and diffusers' ControlNets, xinsir's union, Stability's Control-LoRA,
TencentARC's T2I-Adapters) and the model family it was made for."""

from __future__ import annotations

import pytest
import torch

from comfy.guidance import formats, sd_controlnet, t2i_adapter

SD15 = {"in_channels": 4, "conditioning_channels": 3, "block_out_channels": [320, 640, 1280, 1280],
        "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"], "layers_per_block": 2,
        "cross_attention_dim": 768, "attention_head_dim": 8}
SD21 = {**SD15, "cross_attention_dim": 1024, "attention_head_dim": [5, 10, 20, 20], "use_linear_projection": True}
# diffusers' controlnet-*-sdxl-1.0 (ComfyUI's full SDXL ControlNet) and its -mid variant
SDXL = {"in_channels": 4, "conditioning_channels": 3, "block_out_channels": [320, 640, 1280],
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "layers_per_block": 2,
        "cross_attention_dim": 2048, "attention_head_dim": [5, 10, 20], "use_linear_projection": True,
        "transformer_layers_per_block": [1, 2, 10], "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256, "projection_class_embeddings_input_dim": 2816}
SDXL_MID = {**SDXL, "down_block_types": ["DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"],
            "transformer_layers_per_block": [1, 1, 1]}
SDXL_UNET = {"in_channels": 4, "out_channels": 4, "block_out_channels": [320, 640, 1280],
             "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
             "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "layers_per_block": 2,
             "cross_attention_dim": 2048, "attention_head_dim": [5, 10, 20], "use_linear_projection": True,
             "transformer_layers_per_block": [1, 2, 10], "addition_embed_type": "text_time",
             "addition_time_embed_dim": 256, "projection_class_embeddings_input_dim": 2816}
SD15_UNET = {"cross_attention_dim": 768, "attention_head_dim": 8}


def _meta(model_class: type, **config) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return model_class(**config).state_dict()


def _controlnet(config: dict) -> dict[str, torch.Tensor]:
    from diffusers import ControlNetModel

    return _meta(ControlNetModel, **config)


def _original(state: dict[str, torch.Tensor], prefix: str = formats.SD_ORIGINAL_PREFIX) -> dict[str, torch.Tensor]:
    return {prefix + name: value for name, value in sd_controlnet.diffusers_state_dict_to_original(state).items()}


def _family(control: formats.ControlFormat) -> str:
    state = control.state_dict
    if control.kind != "sd_original":
        state = sd_controlnet.diffusers_state_dict_to_original(state)
    family, _ = sd_controlnet.detect(state)
    return formats.family_group(family.name)


@pytest.mark.parametrize(("name", "state", "kind", "group"), [
    ("SD1.5 original", lambda: _original(_controlnet(SD15)), "sd_original", "SD1.x"),
    ("SD1.5 original, no prefix", lambda: _original(_controlnet(SD15), ""), "sd_original", "SD1.x"),
    ("SD1.5 diffusers", lambda: _controlnet(SD15), "sd_diffusers", "SD1.x"),
    ("SD2.1 diffusers", lambda: _controlnet(SD21), "sd_diffusers", "SD2.x"),
    ("SD2.1 original", lambda: _original(_controlnet(SD21)), "sd_original", "SD2.x"),
    ("SDXL diffusers", lambda: _controlnet(SDXL), "sd_diffusers", "SDXL"),
    ("SDXL mid diffusers", lambda: _controlnet(SDXL_MID), "sd_diffusers", "SDXL"),
    ("SDXL original", lambda: _original(_controlnet(SDXL)), "sd_original", "SDXL"),
])
def test_a_full_size_controlnet_is_recognised_with_its_family(name, state, kind, group):
    control = formats.detect_control(state())
    assert control.kind == kind
    assert _family(control) == group


def test_xinsirs_union_promax_is_recognised_as_an_sdxl_union():
    from diffusers import ControlNetUnionModel

    control = formats.detect_control(_meta(ControlNetUnionModel, num_control_type=8, **SDXL))
    assert control.kind == "sd_union"
    assert _family(control) == "SDXL"


def _control_lora(unet_config: dict, rank: int) -> dict[str, torch.Tensor]:
    """Stability's control-lora layout for a UNet: full hint encoder, zero convs, norms and biases; every other
    weight as a rank-`rank` up/down pair."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    with torch.device("meta"):
        made = ControlNetModel.from_unet(UNet2DConditionModel(**unet_config),
                                         conditioning_embedding_out_channels=(16, 32, 96, 256))
        state = made.state_dict()
        names = sd_controlnet.ldm_names(list(state), 2)
        lora = {formats.CONTROL_LORA_MARKER: torch.zeros(())}
        for key, value in state.items():
            name = names[key]
            if name.startswith(("input_hint_block.", "zero_convs.", "middle_block_out.")) or value.ndim == 1:
                lora[name] = value
                continue
            base = name.removesuffix(".weight")
            lora[base + ".up"] = torch.empty((value.shape[0], rank, *[1] * (value.ndim - 2)))
            lora[base + ".down"] = torch.empty((rank, value.shape[1], *value.shape[2:]))
    return lora


@pytest.mark.parametrize(("unet_config", "group"), [(SDXL_UNET, "SDXL"), (SD15_UNET, "SD1.x")])
def test_a_full_size_control_lora_is_recognised_with_its_family(unet_config, group):
    state = _control_lora(unet_config, 128)
    control = formats.detect_control(state)
    assert control.kind == "control_lora"
    assert formats.control_lora_family_group(control.state_dict) == group


@pytest.mark.parametrize(("kind", "config"), [
    ("t2i_full", {"channels": [320, 640, 1280, 1280], "num_res_blocks": 2, "downscale_factor": 8,
                  "adapter_type": "full_adapter"}),
    ("t2i_light", {"channels": [320, 640, 1280], "num_res_blocks": 4, "downscale_factor": 8,
                   "adapter_type": "light_adapter"}),
    ("t2i_xl", {"channels": [320, 640, 1280, 1280], "num_res_blocks": 2, "downscale_factor": 16,
                "adapter_type": "full_adapter_xl"}),
])
@pytest.mark.parametrize("naming", ["tencentarc", "diffusers"])
def test_a_full_size_t2i_adapter_is_recognised_in_both_namings(kind, config, naming):
    from diffusers import T2IAdapter

    state = _meta(T2IAdapter, in_channels=3, **config)  # diffusers' names: adapter.body.L.resnets.M.*
    if naming == "tencentarc":
        table = t2i_adapter.key_table(list(state), light=kind == "t2i_light")
        state = {original: state[key] for original, key in table.items()}
        assert not any(key.startswith(formats.T2I_DIFFUSERS_PREFIX) for key in state)
    control = formats.detect_control(state)
    assert control.kind == kind
    assert t2i_adapter.diffusers_config(kind, control.state_dict)["adapter_type"] == config["adapter_type"]


def test_a_file_of_no_control_format_says_what_it_saw():
    with pytest.raises(formats.GuidanceFormatError, match="first keys: 'model.diffusion_model.x'"):
        formats.detect_control({"model.diffusion_model.x": torch.zeros(1)})


def test_a_control_lora_for_sdxl_on_an_sd15_model_is_an_error_naming_both_families():
    from types import SimpleNamespace

    import comfy.controlnet

    control = comfy.controlnet.load_controlnet_state_dict(_control_lora(SDXL_UNET, 8))
    assert isinstance(control, comfy.controlnet.ControlLora)
    with pytest.raises(comfy.controlnet.ControlFamilyError, match=r"made for SDXL models.*is SD1\.x \(SD15\)"):
        control.copy().pre_run(SimpleNamespace(family="SD15"), lambda percent: 1.0 - percent)


def test_a_full_size_sd3_controlnet_in_diffusers_layout_is_recognised():
    from diffusers import SD3ControlNetModel

    from comfy.guidance import mmdit_controlnet

    # InstantX's SD3-Controlnet-Canny: SD3 medium's width (24 heads of 64), six blocks
    state = _meta(SD3ControlNetModel, num_layers=6, num_attention_heads=24, caption_projection_dim=1536,
                  pos_embed_max_size=192)
    control = formats.detect_control(state)
    assert control.kind == "sd3_diffusers"
    config = mmdit_controlnet.diffusers_config(control.state_dict)
    assert (config["num_layers"], config["num_attention_heads"], config["pos_embed_max_size"]) == (6, 24, 192)


def test_a_full_size_xlabs_flux_controlnet_is_recognised():
    from comfy.families import flux
    from comfy.guidance import flux_controlnet

    config = {"hidden_size": 3072, "head_dim": 128, "mlp_ratio": 4.0, "depth": 2, "depth_single_blocks": 0,
              "context_in_dim": 4096, "vec_in_dim": 768, "in_channels": 16, "out_channels": 16, "patch_size": 2,
              "guidance_embed": True}
    state = {key: torch.empty(value, device="meta") for key, value in flux.original_layout(config).items()
             if not key.startswith("final_layer.")}
    state.update({f"controlnet_blocks.{index}.weight": torch.empty((3072, 3072), device="meta") for index in (0, 1)})
    state["pos_embed_input.weight"] = torch.empty((3072, 64), device="meta")
    with torch.device("meta"):
        encoder = flux_controlnet.HintEncoder()
    state.update({flux_controlnet.HINT_PREFIX + key: value for key, value in encoder.layers.state_dict().items()})
    control = formats.detect_control(state)
    assert control.kind == "flux_xlabs"


def test_a_full_size_instantx_flux_controlnet_is_recognised():
    from diffusers import FluxControlNetModel

    from comfy.guidance import flux_controlnet

    # InstantX's FLUX.1-dev-Controlnet-Canny: five double and ten single blocks at FLUX.1's width
    control = formats.detect_control(_meta(FluxControlNetModel, num_layers=5, num_single_layers=10,
                                           guidance_embeds=True))
    assert control.kind == "flux_instantx"
    config = flux_controlnet.instantx_config(control.state_dict)
    assert (config["num_layers"], config["num_single_layers"], config["num_attention_heads"]) == (5, 10, 24)
