"""ComfyUI's `comfy.ldm.hunyuan3d.vae`, as faces: Kiln does not carry ComfyUI's `hunyuan3d` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `hunyuan3d` network code (Kiln's models are diffusers modules)"

CrossAttentionDecoder = unsupported_class(__name__, 'CrossAttentionDecoder', '*, out_channels, fourier_embedder, width, heads, mlp_expand_ratio=, downsample_ratio=, enable_ln_post=, qkv_bias=, qk_norm=, label_type=', _REASON)
CrossAttentionProcessor = unsupported_class(__name__, 'CrossAttentionProcessor', None, _REASON)
DiagonalGaussianDistribution = unsupported_class(__name__, 'DiagonalGaussianDistribution', 'params, feature_dim=', _REASON)
DropPath = unsupported_class(__name__, 'DropPath', 'drop_prob=, scale_by_keep=', _REASON)
FourierEmbedder = unsupported_class(__name__, 'FourierEmbedder', 'num_freqs=, logspace=, input_dim=, include_input=, include_pi=', _REASON)
MLP = unsupported_class(__name__, 'MLP', '*, width, expand_ratio=, output_width=, drop_path_rate=', _REASON)
MultiheadAttention = unsupported_class(__name__, 'MultiheadAttention', '*, width, heads, qkv_bias, norm_layer=, qk_norm=, drop_path_rate=', _REASON)
MultiheadCrossAttention = unsupported_class(__name__, 'MultiheadCrossAttention', '*, width, heads, qkv_bias=, data_width=, norm_layer=, qk_norm=, kv_cache=', _REASON)
PointCrossAttention = unsupported_class(__name__, 'PointCrossAttention', 'num_latents, downsample_ratio, pc_size, pc_sharpedge_size, point_feats, width, heads, layers, fourier_embedder, normal_pe=, qkv_bias=, use_ln_post=, qk_norm=', _REASON)
QKVMultiheadAttention = unsupported_class(__name__, 'QKVMultiheadAttention', '*, heads, width=, qk_norm=, norm_layer=', _REASON)
QKVMultiheadCrossAttention = unsupported_class(__name__, 'QKVMultiheadCrossAttention', 'heads, n_data=, width=, qk_norm=, norm_layer=', _REASON)
ResidualAttentionBlock = unsupported_class(__name__, 'ResidualAttentionBlock', '*, width, heads, qkv_bias=, norm_layer=, qk_norm=, drop_path_rate=', _REASON)
ResidualCrossAttentionBlock = unsupported_class(__name__, 'ResidualCrossAttentionBlock', '*, width, heads, mlp_expand_ratio=, data_width=, qkv_bias=, norm_layer=, qk_norm=', _REASON)
ShapeVAE = unsupported_class(__name__, 'ShapeVAE', '*, num_latents=, embed_dim=, width=, heads=, num_decoder_layers=, num_encoder_layers=, pc_size=, pc_sharpedge_size=, point_feats=, downsample_ratio=, geo_decoder_downsample_ratio=, geo_decoder_mlp_expand_ratio=, geo_decoder_ln_post=, num_freqs=, qkv_bias=, qk_norm=, drop_path_rate=, include_pi=, scale_factor=, label_type=', _REASON)
SharpEdgeSurfaceLoader = unsupported_class(__name__, 'SharpEdgeSurfaceLoader', 'num_uniform_points=, num_sharp_points=', _REASON)
Transformer = unsupported_class(__name__, 'Transformer', '*, width, layers, heads, qkv_bias=, norm_layer=, qk_norm=, drop_path_rate=', _REASON)
VanillaVolumeDecoder = unsupported_class(__name__, 'VanillaVolumeDecoder', None, _REASON)
detect_sharp_edges = unsupported_function(__name__, 'detect_sharp_edges', 'mesh, threshold=', _REASON)
fps = unsupported_function(__name__, 'fps', 'src, batch, sampling_ratio, start_random=', _REASON)
load_surface_sharpedge = unsupported_function(__name__, 'load_surface_sharpedge', 'mesh, num_points=, num_sharp_points=, sharpedge_flag=, device=', _REASON)
normalize_mesh = unsupported_function(__name__, 'normalize_mesh', 'mesh, scale=', _REASON)
ops = comfy.ops.disable_weight_init
sample_pointcloud = unsupported_function(__name__, 'sample_pointcloud', 'mesh, num=', _REASON)
sharp_sample_pointcloud = unsupported_function(__name__, 'sharp_sample_pointcloud', 'mesh, num=', _REASON)
