"""Record ComfyUI 0.3.64's final latents for the model-patch, guider, noise, model-sampling and sampler nodes of
issue 18 (RescaleCFG, CFGZeroStar, CFGNorm, Mahiro, APG, TCFG, FreSca, Epsilon Scaling, PerpNeg, PerpNegGuider,
DualCFGGuider, AddNoise, ModelSamplingContinuousEDM/V, SamplerEulerCFGpp, SamplerLCMUpscale) on the reference SD1.5
checkpoint, and their /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_patch_guider_nodes.py \\
        --oracle /root/.cache/kiln-oracle --checkpoint $KILN_REF_SD15

It starts the oracle (../shared/reference/oracle.md) on a free port with a scratch folder whose checkpoints/
holds the checkpoint as ref-sd15.safetensors, runs two prompts (one per family, every case a branch from one
CheckpointLoaderSimple, 64x64 images, STEPS steps, each branch ending in SaveLatent), stops it, and writes to
tests/fixtures/comfyui_nodes/patches_guiders/: workflows.json ({family: {"workflow", "cases": {case: SaveLatent
node id}}}), latents.safetensors ({case: latent}) and object_info.json. Standard library, numpy and safetensors.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "patches_guiders"
NODES = ["RescaleCFG", "CFGZeroStar", "CFGNorm", "Mahiro", "APG", "TCFG", "FreSca", "Epsilon Scaling", "PerpNeg",
         "PerpNegGuider", "DualCFGGuider", "AddNoise", "ModelSamplingContinuousEDM", "ModelSamplingContinuousV",
         "SamplerEulerCFGpp", "SamplerLCMUpscale"]
SEED = 42
# Two steps, not four: the replay runs every branch on one CPU thread, where a call of the SD1.5 UNet takes about
# 0.9 s, and the 19 sampled branches must stay within the test suite's budget. Every guidance function, guider
# and sampler still acts on a second step (APG's momentum, the LCM upscaler's re-noising) from the first's result.
STEPS = 2


def _base() -> dict:
    """The shared trunk: checkpoint, prompts (positive, negative, empty, a second positive) and an empty latent."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "9": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red house by the sea", "clip": ["4", 1]}},
    }


def model_patch_family() -> tuple[dict, dict[str, str]]:
    """Each MODEL-patching node between the checkpoint and its own KSampler (euler, STEPS steps, cfg 7)."""
    patches = {
        "rescale_cfg": ("RescaleCFG", {"multiplier": 0.7}, "normal"),
        "cfg_zero_star": ("CFGZeroStar", {}, "normal"),
        "cfg_norm": ("CFGNorm", {"strength": 0.8}, "normal"),
        "mahiro": ("Mahiro", {}, "normal"),
        "apg": ("APG", {"eta": 0.5, "norm_threshold": 3.0, "momentum": -0.5}, "normal"),
        "tcfg": ("TCFG", {}, "normal"),
        "fresca": ("FreSca", {"scale_low": 0.8, "scale_high": 1.3, "freq_cutoff": 2}, "normal"),
        "epsilon_scaling": ("Epsilon Scaling", {"scaling_factor": 1.01}, "normal"),
        "perp_neg": ("PerpNeg", {"empty_conditioning": ["8", 0], "neg_scale": 0.7}, "normal"),
        "continuous_edm_edm": ("ModelSamplingContinuousEDM",
                               {"sampling": "edm", "sigma_max": 80.0, "sigma_min": 0.002}, "karras"),
        "continuous_edm_playground": ("ModelSamplingContinuousEDM",
                                      {"sampling": "edm_playground_v2.5", "sigma_max": 80.0, "sigma_min": 0.002},
                                      "exponential"),
        "continuous_v": ("ModelSamplingContinuousV",
                         {"sampling": "v_prediction", "sigma_max": 500.0, "sigma_min": 0.03}, "normal"),
    }
    workflow, cases = _base(), {}
    for index, (case, (class_type, inputs, scheduler)) in enumerate(patches.items()):
        patch, sampler, save = str(100 + index), str(200 + index), str(300 + index)
        workflow[patch] = {"class_type": class_type, "inputs": {"model": ["4", 0], **inputs}}
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "seed": SEED, "steps": STEPS, "cfg": 7.0, "sampler_name": "euler", "scheduler": scheduler, "denoise": 1.0,
            "model": [patch, 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"filename_prefix": f"kiln/{case}",
                                                                 "samples": [sampler, 0]}}
        cases[case] = save
    return workflow, cases


def custom_sampling_family() -> tuple[dict, dict[str, str]]:
    """Guiders, AddNoise and SAMPLER nodes through SamplerCustomAdvanced (seeded noise, normal schedule, STEPS
    steps)."""
    workflow = _base()
    workflow.update({
        "10": {"class_type": "RandomNoise", "inputs": {"noise_seed": SEED}},
        "11": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "12": {"class_type": "BasicScheduler", "inputs": {"model": ["4", 0], "scheduler": "normal", "steps": STEPS,
                                                          "denoise": 1.0}},
        "13": {"class_type": "CFGGuider", "inputs": {"model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
                                                     "cfg": 1.5}},
        "14": {"class_type": "RandomNoise", "inputs": {"noise_seed": SEED + 1}},
        "15": {"class_type": "BasicGuider", "inputs": {"model": ["4", 0], "conditioning": ["6", 0]}},
    })
    conds = {"positive": ["6", 0], "negative": ["7", 0]}
    guiders = {
        "perp_neg_guider": ("PerpNegGuider", {**conds, "empty_conditioning": ["8", 0], "cfg": 7.0,
                                              "neg_scale": 0.7}),
        "dual_cfg_regular": ("DualCFGGuider", {"cond1": ["9", 0], "cond2": ["6", 0], "negative": ["7", 0],
                                               "cfg_conds": 5.0, "cfg_cond2_negative": 3.0, "style": "regular"}),
        "dual_cfg_nested": ("DualCFGGuider", {"cond1": ["9", 0], "cond2": ["6", 0], "negative": ["7", 0],
                                              "cfg_conds": 5.0, "cfg_cond2_negative": 3.0, "style": "nested"}),
    }
    samplers = {
        "euler_cfgpp_regular": ("SamplerEulerCFGpp", {"version": "regular"}),
        "euler_cfgpp_alternative": ("SamplerEulerCFGpp", {"version": "alternative"}),
    }
    # LCM steps need no guidance: one pass per step
    lcm_samplers = {
        "lcm_upscale": ("SamplerLCMUpscale", {"scale_ratio": 1.5, "scale_steps": 2, "upscale_method": "bilinear"}),
        "lcm_upscale_bislerp": ("SamplerLCMUpscale", {"scale_ratio": 2.0, "scale_steps": -1,
                                                      "upscale_method": "bislerp"}),
    }
    cases: dict[str, str] = {}
    index = 0

    def branch(case: str, guider: list, sampler: list) -> None:
        nonlocal index
        run, save = str(200 + index), str(300 + index)
        workflow[run] = {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["10", 0], "guider": guider, "sampler": sampler, "sigmas": ["12", 0],
            "latent_image": ["5", 0]}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"filename_prefix": f"kiln/{case}",
                                                                 "samples": [run, 0]}}
        cases[case] = save
        index += 1

    for offset, (case, (class_type, inputs)) in enumerate(guiders.items()):
        node = str(100 + offset)
        workflow[node] = {"class_type": class_type, "inputs": {"model": ["4", 0], **inputs}}
        branch(case, [node, 0], ["11", 0])
    for offset, (case, (class_type, inputs)) in enumerate(samplers.items()):
        node = str(120 + offset)
        workflow[node] = {"class_type": class_type, "inputs": inputs}
        branch(case, ["13", 0], [node, 0])
    for offset, (case, (class_type, inputs)) in enumerate(lcm_samplers.items()):
        node = str(130 + offset)
        workflow[node] = {"class_type": class_type, "inputs": inputs}
        branch(case, ["15", 0], [node, 0])
    # AddNoise on the empty latent (kept as is, then noised), then on that non-empty latent (shifted into model
    # space first) with other noise and the last step's sigmas
    workflow["140"] = {"class_type": "AddNoise", "inputs": {"model": ["4", 0], "noise": ["10", 0],
                                                            "sigmas": ["12", 0], "latent_image": ["5", 0]}}
    workflow["141"] = {"class_type": "SplitSigmas", "inputs": {"sigmas": ["12", 0], "step": STEPS - 1}}
    workflow["142"] = {"class_type": "AddNoise", "inputs": {"model": ["4", 0], "noise": ["14", 0],
                                                            "sigmas": ["141", 1], "latent_image": ["140", 0]}}
    for case, node in (("add_noise_empty", "140"), ("add_noise_latent", "142")):
        save = str(300 + index)
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"filename_prefix": f"kiln/{case}",
                                                                 "samples": [node, 0]}}
        cases[case] = save
        index += 1
    return workflow, cases


def families() -> dict[str, tuple[dict, dict[str, str]]]:
    return {"model_patches": model_patch_family(), "custom_sampling": custom_sampling_family()}


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, families(), NODES, OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
