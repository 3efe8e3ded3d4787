"""ComfyUI's `comfy_extras.nodes_hunyuan3d`, as faces: Kiln does not implement this `nodes_hunyuan3d` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_hunyuan3d` node yet'

EmptyLatentHunyuan3Dv2 = unsupported_class(__name__, 'EmptyLatentHunyuan3Dv2', None, _REASON)
Hunyuan3Dv2Conditioning = unsupported_class(__name__, 'Hunyuan3Dv2Conditioning', None, _REASON)
Hunyuan3Dv2ConditioningMultiView = unsupported_class(__name__, 'Hunyuan3Dv2ConditioningMultiView', None, _REASON)
MESH = unsupported_class(__name__, 'MESH', 'vertices, faces', _REASON)
NODE_CLASS_MAPPINGS: dict = {}
SaveGLB = unsupported_class(__name__, 'SaveGLB', None, _REASON)
VAEDecodeHunyuan3D = unsupported_class(__name__, 'VAEDecodeHunyuan3D', None, _REASON)
VOXEL = unsupported_class(__name__, 'VOXEL', 'data', _REASON)
VoxelToMesh = unsupported_class(__name__, 'VoxelToMesh', None, _REASON)
VoxelToMeshBasic = unsupported_class(__name__, 'VoxelToMeshBasic', None, _REASON)
save_glb = unsupported_function(__name__, 'save_glb', 'vertices, faces, filepath, metadata=', _REASON)
voxel_to_mesh = unsupported_function(__name__, 'voxel_to_mesh', 'voxels, threshold=, device=', _REASON)
voxel_to_mesh_surfnet = unsupported_function(__name__, 'voxel_to_mesh_surfnet', 'voxels, threshold=, device=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
