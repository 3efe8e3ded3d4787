"""ComfyUI's `comfy_extras.nodes_audio_encoder`, as faces: Kiln does not implement this `nodes_audio_encoder` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_audio_encoder` node yet'

AudioEncoder = unsupported_class(__name__, 'AudioEncoder', None, _REASON)
AudioEncoderEncode = unsupported_class(__name__, 'AudioEncoderEncode', None, _REASON)
AudioEncoderLoader = unsupported_class(__name__, 'AudioEncoderLoader', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
