"""Nodes that report what UNet input and output block patches are given (a pack's view of ComfyUI's contract).

KilnTestBlockPatchProbe adds an input-block, an after-skip and an output-block patch (`ModelPatcher`'s documented
setters) that note, during the first network call, each call's block, tensor shapes and transformer_options;
KilnTestBlockPatchReport, run after sampling, returns those notes in its UI output. Self-contained (no imports
from the package) so that the oracle recorder (tools/oracle/record_unet_patch_nodes.py) can load this file into
ComfyUI as it is.
"""

_NOTES: dict[str, list] = {}


def _note(notes: list, state: dict, patch: str, h, hsp, options: dict) -> None:
    block = tuple(options["block"])
    if patch == "input_block_patch" and block == ("input", 0):
        state["calls"] += 1
    if state["calls"] != 1:
        return
    notes.append({
        "patch": patch, "block": list(block), "h": list(h.shape), "hsp": None if hsp is None else list(hsp.shape),
        "keys": sorted(options), "original_shape": list(options["original_shape"]),
        "cond_or_uncond": list(options["cond_or_uncond"]), "transformer_index": options["transformer_index"],
        "sigmas": [round(float(sigma), 4) for sigma in options["sigmas"]],
    })


class BlockPatchProbe:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "probe": ("STRING", {"default": "probe"})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "kiln_test"

    def patch(self, model, probe):
        notes = _NOTES.setdefault(probe, [])
        notes.clear()
        state = {"calls": 0}

        def input_patch(h, options):
            _note(notes, state, "input_block_patch", h, None, options)
            return h

        def after_skip_patch(h, options):
            _note(notes, state, "input_block_patch_after_skip", h, None, options)
            return h

        def output_patch(h, hsp, options):
            _note(notes, state, "output_block_patch", h, hsp, options)
            return h, hsp

        patched = model.clone()
        patched.set_model_input_block_patch(input_patch)
        patched.set_model_input_block_patch_after_skip(after_skip_patch)
        patched.set_model_output_block_patch(output_patch)
        return (patched,)


class BlockPatchReport:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "probe": ("STRING", {"default": "probe"})}}

    RETURN_TYPES = ()
    FUNCTION = "report"
    OUTPUT_NODE = True
    CATEGORY = "kiln_test"

    def report(self, samples, probe):
        return {"ui": {"notes": list(_NOTES.get(probe, []))}}


NODE_CLASS_MAPPINGS = {
    "KilnTestBlockPatchProbe": BlockPatchProbe,
    "KilnTestBlockPatchReport": BlockPatchReport,
}
