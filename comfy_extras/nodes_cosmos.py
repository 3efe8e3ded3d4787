"""ComfyUI's `comfy_extras.nodes_cosmos`, as faces: Kiln does not implement this `nodes_cosmos` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_cosmos` node yet'

CosmosExtension = unsupported_class(__name__, 'CosmosExtension', None, _REASON)
CosmosImageToVideoLatent = unsupported_class(__name__, 'CosmosImageToVideoLatent', None, _REASON)
CosmosPredict2ImageToVideoLatent = unsupported_class(__name__, 'CosmosPredict2ImageToVideoLatent', None, _REASON)
EmptyCosmosLatentVideo = unsupported_class(__name__, 'EmptyCosmosLatentVideo', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
vae_encode_with_padding = unsupported_function(__name__, 'vae_encode_with_padding', 'vae, image, width, height, length, padding=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
