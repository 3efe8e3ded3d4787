"""Nodes that use ComfyUI's DiT block replacements as a pack does (`ModelPatcher.set_model_patch_replace(...,
"dit", "double_block" | "single_block", i)`) and report what the replacements are given.

KilnTestDitBlockProbe registers, for the listed double- and single-stream blocks, a replacement that runs the
original block (`extra["original_block"]`) and moves its output only `mix` of the way from the block's input
(mix 1: the block as it is), noting during the first network call each block's argument names and the shapes of
its tensors; KilnTestDitBlockReport, run after sampling, returns those notes in its UI output. Self-contained (no
imports from the package) so that the oracle recorder (tools/oracle/record_dit_block_patches.py) can load this
file into ComfyUI as it is.
"""

_NOTES: dict[str, list] = {}


def _shape(value):
    return list(value.shape) if hasattr(value, "shape") else None


def _replacement(notes: list, state: dict, kind: str, index: int, mix: float):
    def replace(args, extra):
        if kind == "double_block" and index == state["first"]:
            state["calls"] += 1
        if state["calls"] == 1:
            options = args.get("transformer_options", {})
            notes.append({"block": [kind, index], "keys": sorted(args), "img": _shape(args["img"]),
                          "txt": _shape(args.get("txt")), "vec": _shape(args["vec"]),
                          "cond_or_uncond": list(options.get("cond_or_uncond", [])),
                          "sigmas": [round(float(sigma), 4) for sigma in options.get("sigmas", [])]})
        out = extra["original_block"](args)
        # (SD3's last joint block answers no text stream: None passes through)
        return {name: value if value is None else args[name] + (value - args[name]) * mix
                for name, value in out.items()}

    return replace


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.replace(",", " ").split()]


class DitBlockProbe:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "probe": ("STRING", {"default": "probe"}),
                             "double_blocks": ("STRING", {"default": "0"}),
                             "single_blocks": ("STRING", {"default": ""}),
                             "mix": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 2.0, "step": 0.01})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "kiln_test"

    def patch(self, model, probe, double_blocks, single_blocks, mix):
        notes = _NOTES.setdefault(probe, [])
        notes.clear()
        doubles, singles = _numbers(double_blocks), _numbers(single_blocks)
        state = {"calls": 0, "first": doubles[0] if doubles else None}
        patched = model.clone()
        for kind, indices in (("double_block", doubles), ("single_block", singles)):
            for index in indices:
                patched.set_model_patch_replace(_replacement(notes, state, kind, index, mix), "dit", kind, index)
        return (patched,)


class DitBlockReport:
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
    "KilnTestDitBlockProbe": DitBlockProbe,
    "KilnTestDitBlockReport": DitBlockReport,
}
