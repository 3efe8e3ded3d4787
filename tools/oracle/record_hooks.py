"""Record ComfyUI 0.3.64's final latents for hooks (issue 18: a LoRA scheduled by keyframes over the steps) on the
reference SD1.5 checkpoint, and the /object_info entries of every hook node.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_hooks.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

The LoRAs are tests/fixtures/comfyui_nodes/hooks/make_hook_loras.py's (built from seeds, written to the scratch
folder). One prompt, every case a branch from one CheckpointLoaderSimple to its own KSampler (euler, normal,
STEPS steps, cfg 7, 64x64) and a SaveLatent: no hook; a keyframed hook (strength 0, then 1 from half-way) on the
positive prompt only; the same on both prompts (one hook group, batched together); two hooks combined (the
keyframed one and one at constant strength) on a second positive entry added with
ConditioningSetPropertiesAndCombine; interpolated keyframes (ease in-out); a masked entry and a default entry
with a constant hook (ConditioningSetDefaultCombine) filling what the mask leaves; CLIP hooks (SetClipHooks)
carried to the conditionings, scheduled by keyframes on both prompts (one entry per span), and on the text
encoder only; a hooked pair of entries added to both prompts over a step range (PairConditioningSetProperties-
AndCombine, ConditioningTimestepsRange). Writes tests/fixtures/comfyui_nodes/hooks/: workflow.json ({"workflow", "cases": {case: SaveLatent
node}}), latents.safetensors, object_info.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from oracle_server import object_info, reference_main, reference_scratch, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "hooks"
NODES = ("CreateHookLora", "CreateHookLoraModelOnly", "CreateHookModelAsLora", "CreateHookModelAsLoraModelOnly",
         "SetHookKeyframes", "CreateHookKeyframe", "CreateHookKeyframesInterpolated", "CreateHookKeyframesFromFloats",
         "CombineHooks2", "CombineHooks4", "CombineHooks8", "ConditioningSetProperties",
         "ConditioningSetPropertiesAndCombine", "PairConditioningSetProperties",
         "PairConditioningSetPropertiesAndCombine", "ConditioningSetDefaultCombine",
         "PairConditioningSetDefaultCombine", "PairConditioningCombine", "SetClipHooks", "ConditioningTimestepsRange")
STEPS = 3  # enough for a keyframe half-way to switch at the second step; the replay's time budget
LORA_A, LORA_B = "kiln-hook-lora-a.safetensors", "kiln-hook-lora-b.safetensors"


def workflow() -> tuple[dict, dict[str, str]]:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    def props(cond: list, hooks: list, **extra: object) -> dict:
        return node("ConditioningSetProperties", cond_NEW=cond, strength=1.0, set_cond_area="default", hooks=hooks,
                    **extra)

    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd15.safetensors"),
        "2": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 1]),
        "3": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "4": node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "5": node("CLIPTextEncode", text="a watercolor painting", clip=["1", 1]),
        # hooks
        "10": node("CreateHookLora", lora_name=LORA_A, strength_model=1.0, strength_clip=1.0),
        "11": node("CreateHookKeyframe", strength_mult=0.0, start_percent=0.0),
        "12": node("CreateHookKeyframe", strength_mult=1.0, start_percent=0.5, prev_hook_kf=["11", 0]),
        "13": node("CreateHookLoraModelOnly", lora_name=LORA_A, strength_model=1.5),
        "14": node("SetHookKeyframes", hooks=["13", 0], hook_kf=["12", 0]),
        "15": node("CreateHookLoraModelOnly", lora_name=LORA_B, strength_model=-0.8),
        "16": node("CombineHooks2", hooks_A=["14", 0], hooks_B=["15", 0]),
        "17": node("CreateHookKeyframesInterpolated", strength_start=0.0, strength_end=1.0,
                   interpolation="ease_in_out", start_percent=0.0, end_percent=1.0, keyframes_count=4,
                   print_keyframes=False),
        "18": node("SetHookKeyframes", hooks=["15", 0], hook_kf=["17", 0]),
        "19": node("SolidMask", value=0.6, width=64, height=64),
        # conditionings
        "21": props(["2", 0], ["14", 0]),
        "22": props(["3", 0], ["14", 0]),
        "23": node("ConditioningSetPropertiesAndCombine", cond=["2", 0], cond_NEW=["5", 0], strength=0.7,
                   set_cond_area="default", hooks=["16", 0]),
        "24": props(["2", 0], ["18", 0]),
        "25": props(["2", 0], ["14", 0], mask=["19", 0]),
        "26": node("ConditioningSetDefaultCombine", cond=["25", 0], cond_DEFAULT=["5", 0], hooks=["10", 0]),
        # CLIP hooks
        "30": node("SetClipHooks", clip=["1", 1], apply_to_conds=True, schedule_clip=False, hooks=["10", 0]),
        "31": node("CLIPTextEncode", text="a photo of a cat", clip=["30", 0]),
        "32": node("CreateHookLora", lora_name=LORA_B, strength_model=0.5, strength_clip=1.5),
        "33": node("SetHookKeyframes", hooks=["32", 0], hook_kf=["12", 0]),
        "34": node("SetClipHooks", clip=["1", 1], apply_to_conds=True, schedule_clip=True, hooks=["33", 0]),
        "35": node("CLIPTextEncode", text="a photo of a cat", clip=["34", 0]),
        "36": node("CLIPTextEncode", text="blurry", clip=["34", 0]),
        "37": node("SetClipHooks", clip=["1", 1], apply_to_conds=False, schedule_clip=False, hooks=["32", 0]),
        "38": node("CLIPTextEncode", text="a photo of a cat", clip=["37", 0]),
        # a pair of new entries, hooked, over a step range only
        "40": node("ConditioningTimestepsRange", start_percent=0.3, end_percent=0.7),
        "41": node("PairConditioningSetPropertiesAndCombine", positive=["2", 0], negative=["3", 0],
                   positive_NEW=["5", 0], negative_NEW=["3", 0], strength=0.8, set_cond_area="default",
                   hooks=["14", 0], timesteps=["40", 0]),
    }
    branches = {
        "no_hooks": (["2", 0], ["3", 0]),
        "keyframes_positive": (["21", 0], ["3", 0]),
        "keyframes_both": (["21", 0], ["22", 0]),
        "two_hooks_combined": (["23", 0], ["3", 0]),
        "interpolated": (["24", 0], ["3", 0]),
        "masked_with_default": (["26", 0], ["3", 0]),
        "clip_hooks": (["31", 0], ["3", 0]),
        "clip_hooks_scheduled": (["35", 0], ["36", 0]),
        "clip_hooks_encoder_only": (["38", 0], ["3", 0]),
        "pair_over_step_range": (["41", 0], ["41", 1]),
    }
    cases = {}
    for index, (case, (positive, negative)) in enumerate(branches.items()):
        sampler, save = str(100 + index), str(200 + index)
        prompt[sampler] = node("KSampler", model=["1", 0], seed=7, steps=STEPS, cfg=7.0, sampler_name="euler",
                               scheduler="normal", positive=positive, negative=negative, latent_image=["4", 0],
                               denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_hooks_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path, checkpoint: Path) -> None:
    sys.path.insert(0, str(OUT))
    import make_hook_loras

    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-hooks-") as scratch:
        scratch_path = Path(scratch)
        make_hook_loras.build(checkpoint, scratch_path / "loras")
        folders = {**reference_scratch(scratch_path, checkpoint), "loras": "loras"}
        with running_oracle(oracle, scratch_path, folders) as url:
            info = object_info(url, NODES)
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    reference_main(record, __doc__)
