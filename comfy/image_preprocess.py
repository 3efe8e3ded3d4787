"""What image encoders take and give: CLIP's preprocessing of IMAGE tensors and the encoders' output record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

# CLIP's image normalisation (OpenAI's mean and standard deviation per RGB channel).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class Output:
    """What an image encoder returns: attributes (`last_hidden_state`, `image_embeds`, `penultimate_hidden_states`,
    `mm_projected`, ...) also readable and writable by key (`output["image_embeds"]`)."""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, item: Any) -> None:
        setattr(self, key, item)


def clip_preprocess(image: torch.Tensor, size: int = 224, mean: Sequence[float] = CLIP_MEAN,
                    std: Sequence[float] = CLIP_STD, crop: bool = True) -> torch.Tensor:
    """IMAGE [B, H, W, C] (0..1; an alpha channel is dropped) → the encoder's input [B, 3, size, size]: resized
    bicubically with antialiasing so the short side is `size` and centre-cropped (or squashed to size x size
    without `crop`), quantised to 8 bits as an image file would be, then normalised by `mean` and `std`."""
    image = image[..., :3].movedim(-1, 1)
    mean_tensor = torch.tensor(mean, device=image.device, dtype=image.dtype).view(3, 1, 1)
    std_tensor = torch.tensor(std, device=image.device, dtype=image.dtype).view(3, 1, 1)
    if image.shape[2] != size or image.shape[3] != size:
        if crop:
            scale = size / min(image.shape[2], image.shape[3])
            resized = (round(scale * image.shape[2]), round(scale * image.shape[3]))
        else:
            resized = (size, size)
        image = torch.nn.functional.interpolate(image, size=resized, mode="bicubic", antialias=True)
        top, left = (image.shape[2] - size) // 2, (image.shape[3] - size) // 2
        image = image[:, :, top:top + size, left:left + size]
    image = torch.clip(255.0 * image, 0, 255).round() / 255.0
    return (image - mean_tensor) / std_tensor
