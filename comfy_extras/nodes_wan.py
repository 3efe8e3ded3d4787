"""ComfyUI's `comfy_extras.nodes_wan`, as faces: Kiln does not implement this `nodes_wan` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_wan` node yet'

FIXED_LENGTH = UnsupportedValue(__name__, 'FIXED_LENGTH', _REASON)
TrimVideoLatent = unsupported_class(__name__, 'TrimVideoLatent', None, _REASON)
Wan22FunControlToVideo = unsupported_class(__name__, 'Wan22FunControlToVideo', None, _REASON)
Wan22ImageToVideoLatent = unsupported_class(__name__, 'Wan22ImageToVideoLatent', None, _REASON)
WanAnimateToVideo = unsupported_class(__name__, 'WanAnimateToVideo', None, _REASON)
WanCameraImageToVideo = unsupported_class(__name__, 'WanCameraImageToVideo', None, _REASON)
WanExtension = unsupported_class(__name__, 'WanExtension', None, _REASON)
WanFirstLastFrameToVideo = unsupported_class(__name__, 'WanFirstLastFrameToVideo', None, _REASON)
WanFunControlToVideo = unsupported_class(__name__, 'WanFunControlToVideo', None, _REASON)
WanFunInpaintToVideo = unsupported_class(__name__, 'WanFunInpaintToVideo', None, _REASON)
WanHuMoImageToVideo = unsupported_class(__name__, 'WanHuMoImageToVideo', None, _REASON)
WanImageToVideo = unsupported_class(__name__, 'WanImageToVideo', None, _REASON)
WanPhantomSubjectToVideo = unsupported_class(__name__, 'WanPhantomSubjectToVideo', None, _REASON)
WanSoundImageToVideo = unsupported_class(__name__, 'WanSoundImageToVideo', None, _REASON)
WanSoundImageToVideoExtend = unsupported_class(__name__, 'WanSoundImageToVideoExtend', None, _REASON)
WanTrackToVideo = unsupported_class(__name__, 'WanTrackToVideo', None, _REASON)
WanVaceToVideo = unsupported_class(__name__, 'WanVaceToVideo', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
get_audio_emb_window = unsupported_function(__name__, 'get_audio_emb_window', 'audio_emb, frame_num, frame0_idx, audio_shift=', _REASON)
get_audio_embed_bucket_fps = unsupported_function(__name__, 'get_audio_embed_bucket_fps', 'audio_embed, fps=, batch_frames=, m=, video_rate=', _REASON)
get_sample_indices = unsupported_function(__name__, 'get_sample_indices', 'original_fps, total_frames, target_fps, num_sample, fixed_start=', _REASON)
ind_sel = unsupported_function(__name__, 'ind_sel', 'target, ind, dim=', _REASON)
linear_interpolation = unsupported_function(__name__, 'linear_interpolation', 'features, input_fps, output_fps, output_len=', _REASON)
merge_final = unsupported_function(__name__, 'merge_final', 'vert_attr, weight, vert_assign', _REASON)
pad_pts = unsupported_function(__name__, 'pad_pts', 'tr', _REASON)
parse_json_tracks = unsupported_function(__name__, 'parse_json_tracks', 'tracks', _REASON)
patch_motion = unsupported_function(__name__, 'patch_motion', 'tracks, vid, temperature=, vae_divide=, topk=', _REASON)
process_tracks = unsupported_function(__name__, 'process_tracks', 'tracks_np, frame_size, num_frames, quant_multi=, **kwargs', _REASON)
wan_sound_to_video = unsupported_function(__name__, 'wan_sound_to_video', 'positive, negative, vae, width, height, length, batch_size, frame_offset=, ref_image=, audio_encoder_output=, control_video=, ref_motion=, ref_motion_latent=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
