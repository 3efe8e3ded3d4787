"""ComfyUI's `comfy.ldm.cosmos.cosmos_tokenizer` package (faces; see comfy/unsupported.py)."""
