"""ComfyUI's `comfy_extras.nodes_train`, as faces: Kiln does not implement this `nodes_train` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_train` node yet'

BiasDiff = unsupported_class(__name__, 'BiasDiff', 'bias', _REASON)
LoadImageSetFromFolderNode = unsupported_class(__name__, 'LoadImageSetFromFolderNode', None, _REASON)
LoadImageSetNode = unsupported_class(__name__, 'LoadImageSetNode', None, _REASON)
LoadImageTextSetFromFolderNode = unsupported_class(__name__, 'LoadImageTextSetFromFolderNode', None, _REASON)
LoraModelLoader = unsupported_class(__name__, 'LoraModelLoader', '', _REASON)
LossGraphNode = unsupported_class(__name__, 'LossGraphNode', '', _REASON)
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
SaveLoRA = unsupported_class(__name__, 'SaveLoRA', '', _REASON)
TrainLoraNode = unsupported_class(__name__, 'TrainLoraNode', None, _REASON)
TrainSampler = unsupported_class(__name__, 'TrainSampler', 'loss_fn, optimizer, loss_callback=, batch_size=, grad_acc=, total_steps=, seed=, training_dtype=', _REASON)
draw_loss_graph = unsupported_function(__name__, 'draw_loss_graph', 'loss_map, steps', _REASON)
find_all_highest_child_module_with_forward = unsupported_function(__name__, 'find_all_highest_child_module_with_forward', 'model, result=, name=', _REASON)
load_and_process_images = unsupported_function(__name__, 'load_and_process_images', 'image_files, input_dir, resize_method=, w=, h=', _REASON)
make_batch_extra_option_dict = unsupported_function(__name__, 'make_batch_extra_option_dict', 'd, indicies, full_size=', _REASON)
patch = unsupported_function(__name__, 'patch', 'm', _REASON)
process_cond_list = unsupported_function(__name__, 'process_cond_list', 'd, prefix=', _REASON)
unpatch = unsupported_function(__name__, 'unpatch', 'm', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
