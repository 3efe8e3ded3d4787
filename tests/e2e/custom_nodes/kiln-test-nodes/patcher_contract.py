"""A custom node written against ComfyUI's documented ModelPatcher API, one feature at a time (issue 18's contract
pack): attention patches and replacements, block patches, the UNet function wrapper, the pre-CFG, CFG and
post-CFG functions, an object patch and weight patches (`add_patches`) named by ComfyUI's state-dict keys.

Each feature changes the sampling in a small, deterministic way, so a recorded latent proves the patch was called
where and with what ComfyUI calls it with. Self-contained (torch and ComfyUI's module names only) so that the
oracle recorder (tools/oracle/record_patcher_contract.py) can load this file into ComfyUI as it is.
"""

import copy

import torch

FEATURES = ["attn1_patch", "attn2_patch", "attn1_output_patch", "attn2_output_patch", "attn1_replace",
            "attn2_replace", "input_block_patch", "output_block_patch", "unet_function_wrapper", "pre_cfg_function",
            "cfg_function", "post_cfg_function", "object_patch", "add_patches_diff", "add_patches_lora"]


def _block(text: str) -> tuple[str, int, int | None]:
    """"input,7,1" -> ("input", 7, 1): a block name, its number and a transformer index (optional)."""
    parts = [part.strip() for part in text.split(",")]
    return parts[0], int(parts[1]), int(parts[2]) if len(parts) > 2 and parts[2] else None


def _ramp(shape: tuple[int, ...], scale: float) -> torch.Tensor:
    """A deterministic tensor of `shape`: a ramp from -scale to scale bent by a cosine (full rank for a matrix)."""
    count = 1
    for size in shape:
        count *= size
    index = torch.arange(count, dtype=torch.float32)
    return (torch.linspace(-scale, scale, count) * torch.cos(index * 0.37)).reshape(shape)


def _attention(q, k, v, extra_options):
    from comfy.ldm.modules.attention import optimized_attention

    return optimized_attention(q, k, v, extra_options["n_heads"])


class PatcherContract:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "feature": (FEATURES,),
            "block": ("STRING", {"default": ""}),  # the replacements' block: "input,7,1"
            "key": ("STRING", {"default": ""}),  # add_patches: ComfyUI's key of a weight
            "shape": ("STRING", {"default": ""}),  # ... and its shape, "3072,3072"
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "kiln_test"

    def patch(self, model, feature, block, key, shape):
        patched = model.clone()
        getattr(self, feature)(patched, block, key, tuple(int(size) for size in shape.split(",") if size.strip()))
        return (patched,)

    # -- attention ------------------------------------------------------------------------------------------------

    @staticmethod
    def attn1_patch(patched, block, key, shape):
        patched.set_model_attn1_patch(lambda q, k, v, extra_options: (q * 1.1, k, v))

    @staticmethod
    def attn2_patch(patched, block, key, shape):
        patched.set_model_attn2_patch(lambda q, k, v, extra_options: (q, k * 0.9, v * 1.1))

    @staticmethod
    def attn1_output_patch(patched, block, key, shape):
        patched.set_model_attn1_output_patch(lambda n, extra_options: n * 0.9)

    @staticmethod
    def attn2_output_patch(patched, block, key, shape):
        patched.set_model_attn2_output_patch(lambda n, extra_options: n * 1.2)

    @staticmethod
    def attn1_replace(patched, block, key, shape):
        name, number, index = _block(block)
        patched.set_model_attn1_replace(lambda q, k, v, extra_options: _attention(q, k * 1.5, v, extra_options),
                                        name, number, index)

    @staticmethod
    def attn2_replace(patched, block, key, shape):
        name, number, index = _block(block)
        patched.set_model_attn2_replace(lambda q, k, v, extra_options: _attention(q * 0.5, k, -v, extra_options),
                                        name, number, index)

    # -- blocks -------------------------------------------------------------------------------------------------

    @staticmethod
    def input_block_patch(patched, block, key, shape):
        patched.set_model_input_block_patch(lambda h, transformer_options: h * 1.05)

    @staticmethod
    def output_block_patch(patched, block, key, shape):
        patched.set_model_output_block_patch(lambda h, hsp, transformer_options: (h, hsp * 0.9))

    # -- sampling functions -------------------------------------------------------------------------------------

    @staticmethod
    def unet_function_wrapper(patched, block, key, shape):
        def wrapper(apply_model, args):
            return apply_model(args["input"], args["timestep"], **args["c"]) * 0.9
        patched.set_model_unet_function_wrapper(wrapper)

    @staticmethod
    def pre_cfg_function(patched, block, key, shape):
        def pre_cfg(args):
            return [None if out is None else out * (1.05 if index == 0 else 0.95)
                    for index, out in enumerate(args["conds_out"])]
        patched.set_model_sampler_pre_cfg_function(pre_cfg)

    @staticmethod
    def cfg_function(patched, block, key, shape):
        def cfg(args):
            uncond = args["uncond"]  # cond and uncond are noise predictions (input - denoised), and so is the result
            return uncond + (args["cond"] - uncond) * args["cond_scale"] * 0.7
        patched.set_model_sampler_cfg_function(cfg)

    @staticmethod
    def post_cfg_function(patched, block, key, shape):
        def post_cfg(args):
            return args["denoised"] * 0.8 + args["cond_denoised"] * 0.2 + args["sigma"].reshape(-1, 1, 1, 1) * 0.01
        patched.set_model_sampler_post_cfg_function(post_cfg)

    # -- objects and weights ------------------------------------------------------------------------------------

    @staticmethod
    def object_patch(patched, block, key, shape):
        sampling = patched.get_model_object("model_sampling")

        class Damped(type(sampling)):
            def calculate_denoised(self, sigma, model_output, model_input):
                return super().calculate_denoised(sigma, model_output * 0.9, model_input)

        damped = copy.copy(sampling)
        damped.__class__ = Damped
        patched.add_object_patch("model_sampling", damped)

    @staticmethod
    def add_patches_diff(patched, block, key, shape):
        added = patched.add_patches({key: ("diff", (_ramp(shape, 0.05),))}, 1.0)
        assert added == [key], f"add_patches took {added}, not {key}"

    @staticmethod
    def add_patches_lora(patched, block, key, shape):
        rank = 4
        up = _ramp((shape[0], rank), 0.5)
        down = _ramp((rank, *shape[1:]), 0.5).flip(-1)
        from comfy.weight_adapter.lora import LoRAAdapter

        adapter = LoRAAdapter(set(), (up, down, 2.0, None, None, None))
        added = patched.add_patches({key: adapter}, 0.8)
        assert added == [key], f"add_patches took {added}, not {key}"


NODE_CLASS_MAPPINGS = {"KilnTestPatcherContract": PatcherContract}
