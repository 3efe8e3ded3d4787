"""ComfyUI's `comfy_extras.nodes_camera_trajectory`, as faces: Kiln does not implement this `nodes_camera_trajectory` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_camera_trajectory` node yet'

CAMERA_DICT = UnsupportedValue(__name__, 'CAMERA_DICT', _REASON)
Camera = unsupported_class(__name__, 'Camera', 'entry', _REASON)
CameraTrajectoryExtension = unsupported_class(__name__, 'CameraTrajectoryExtension', None, _REASON)
WanCameraEmbedding = unsupported_class(__name__, 'WanCameraEmbedding', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
get_camera_motion = unsupported_function(__name__, 'get_camera_motion', 'angle, T, speed, n=', _REASON)
process_pose_params = unsupported_function(__name__, 'process_pose_params', 'cam_params, width=, height=, original_pose_width=, original_pose_height=, device=', _REASON)
ray_condition = unsupported_function(__name__, 'ray_condition', 'K, c2w, H, W, device', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
