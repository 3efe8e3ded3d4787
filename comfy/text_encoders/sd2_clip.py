"""ComfyUI's `comfy.text_encoders.sd2_clip`: the SD 2.x OpenCLIP-H text encoder and tokenizer, which Kiln keeps in
`comfy.sd2_clip`."""

from comfy.sd2_clip import SD2ClipHModel, SD2ClipHTokenizer, SD2ClipModel, SD2Tokenizer

__all__ = ["SD2ClipHModel", "SD2ClipHTokenizer", "SD2ClipModel", "SD2Tokenizer"]
