"""ComfyUI's `comfy.clip_vision`: the names custom nodes import (`load`, `ClipVisionModel`, `clip_preprocess`,
`Output`, ...), as faces over Kiln's image encoders (comfy/guidance/clip_vision_models.py)."""

from comfy.guidance.clip_vision_models import (  # noqa: F401  ComfyUI's public names
    CONFIGS,
    IMAGE_ENCODERS,
    ClipVisionLoadError,
    ClipVisionModel,
    convert_to_transformers,
    load,
    load_clipvision_from_sd,
)
from comfy.image_preprocess import CLIP_MEAN, CLIP_STD, Output, clip_preprocess  # noqa: F401
