"""API version 0.0.1 (same surface as `comfy_api.latest` for progress)."""

from comfy_api.latest import ComfyAPI, ComfyAPISync

__all__ = ["ComfyAPI", "ComfyAPISync"]
