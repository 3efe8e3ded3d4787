"""ComfyUI's `comfy_extras.nodes_hunyuan`, as faces: Kiln does not implement this `nodes_hunyuan` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class

_REASON = 'Kiln does not implement this `nodes_hunyuan` node yet'

CLIPTextEncodeHunyuanDiT = unsupported_class(__name__, 'CLIPTextEncodeHunyuanDiT', None, _REASON)
EmptyHunyuanImageLatent = unsupported_class(__name__, 'EmptyHunyuanImageLatent', None, _REASON)
EmptyHunyuanLatentVideo = unsupported_class(__name__, 'EmptyHunyuanLatentVideo', None, _REASON)
HunyuanImageToVideo = unsupported_class(__name__, 'HunyuanImageToVideo', None, _REASON)
HunyuanRefinerLatent = unsupported_class(__name__, 'HunyuanRefinerLatent', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
PROMPT_TEMPLATE_ENCODE_VIDEO_I2V = UnsupportedValue(__name__, 'PROMPT_TEMPLATE_ENCODE_VIDEO_I2V', _REASON)
TextEncodeHunyuanVideo_ImageToVideo = unsupported_class(__name__, 'TextEncodeHunyuanVideo_ImageToVideo', None, _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
