"""ComfyUI's `comfy_extras.nodes_model_patch`, as faces: Kiln does not implement this `nodes_model_patch` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln does not implement this `nodes_model_patch` node yet'

BlockWiseControlBlock = unsupported_class(__name__, 'BlockWiseControlBlock', 'dim=, device=, dtype=, operations=', _REASON)
DiffSynthCnetPatch = unsupported_class(__name__, 'DiffSynthCnetPatch', 'model_patch, vae, image, strength, mask=', _REASON)
ModelPatchLoader = unsupported_class(__name__, 'ModelPatchLoader', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
QwenImageBlockWiseControlNet = unsupported_class(__name__, 'QwenImageBlockWiseControlNet', 'num_layers=, in_dim=, additional_in_dim=, dim=, device=, dtype=, operations=', _REASON)
QwenImageDiffsynthControlnet = unsupported_class(__name__, 'QwenImageDiffsynthControlnet', None, _REASON)
SigLIPMultiFeatProjModel = unsupported_class(__name__, 'SigLIPMultiFeatProjModel', 'siglip_token_nums=, style_token_nums=, siglip_token_dims=, hidden_size=, context_layer_norm=, device=, dtype=, operations=', _REASON)
USOStyleReference = unsupported_class(__name__, 'USOStyleReference', None, _REASON)
UsoStyleProjectorPatch = unsupported_class(__name__, 'UsoStyleProjectorPatch', 'model_patch, encoded_image', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
