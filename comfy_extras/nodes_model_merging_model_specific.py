"""ComfyUI's `comfy_extras.nodes_model_merging_model_specific`, as faces: Kiln does not implement this `nodes_model_merging_model_specific` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln does not implement this `nodes_model_merging_model_specific` node yet'

ModelMergeAuraflow = unsupported_class(__name__, 'ModelMergeAuraflow', None, _REASON)
ModelMergeCosmos14B = unsupported_class(__name__, 'ModelMergeCosmos14B', None, _REASON)
ModelMergeCosmos7B = unsupported_class(__name__, 'ModelMergeCosmos7B', None, _REASON)
ModelMergeCosmosPredict2_14B = unsupported_class(__name__, 'ModelMergeCosmosPredict2_14B', None, _REASON)
ModelMergeCosmosPredict2_2B = unsupported_class(__name__, 'ModelMergeCosmosPredict2_2B', None, _REASON)
ModelMergeFlux1 = unsupported_class(__name__, 'ModelMergeFlux1', None, _REASON)
ModelMergeLTXV = unsupported_class(__name__, 'ModelMergeLTXV', None, _REASON)
ModelMergeMochiPreview = unsupported_class(__name__, 'ModelMergeMochiPreview', None, _REASON)
ModelMergeQwenImage = unsupported_class(__name__, 'ModelMergeQwenImage', None, _REASON)
ModelMergeSD1 = unsupported_class(__name__, 'ModelMergeSD1', None, _REASON)
ModelMergeSD35_Large = unsupported_class(__name__, 'ModelMergeSD35_Large', None, _REASON)
ModelMergeSD3_2B = unsupported_class(__name__, 'ModelMergeSD3_2B', None, _REASON)
ModelMergeSDXL = unsupported_class(__name__, 'ModelMergeSDXL', None, _REASON)
ModelMergeWAN2_1 = unsupported_class(__name__, 'ModelMergeWAN2_1', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
