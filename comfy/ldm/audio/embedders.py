"""ComfyUI's `comfy.ldm.audio.embedders`, as faces: Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules)"

Conditioner = unsupported_class(__name__, 'Conditioner', 'dim, output_dim, project_out=', _REASON)
LearnedPositionalEmbedding = unsupported_class(__name__, 'LearnedPositionalEmbedding', 'dim', _REASON)
NumberConditioner = unsupported_class(__name__, 'NumberConditioner', 'output_dim, min_val=, max_val=', _REASON)
NumberEmbedder = unsupported_class(__name__, 'NumberEmbedder', 'features, dim=', _REASON)
TimePositionalEmbedding = unsupported_function(__name__, 'TimePositionalEmbedding', 'dim, out_features', _REASON)
