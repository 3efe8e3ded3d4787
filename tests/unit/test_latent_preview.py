"""Latent previews: the latent2rgb preview of a video latent [B, C, T, H, W] is its first frame's, as ComfyUI
0.3.64 shows it (the frame a video's preview starts on)."""

from __future__ import annotations

import numpy as np
import torch

from latent_preview import Latent2RGBPreviewer


def test_a_video_latents_preview_is_its_first_frames():
    generator = torch.Generator().manual_seed(0)
    factors = (torch.rand((16, 3), generator=generator) * 0.2 - 0.1).tolist()
    previewer = Latent2RGBPreviewer(factors, [0.1, -0.1, 0.0])
    video = torch.randn((1, 16, 3, 6, 5), generator=generator)
    preview = np.asarray(previewer.decode_latent_to_preview(video))
    assert preview.shape == (6, 5, 3)
    assert np.array_equal(preview, np.asarray(previewer.decode_latent_to_preview(video[:, :, 0])))
    assert not np.array_equal(preview, np.asarray(previewer.decode_latent_to_preview(video[:, :, 1])))
