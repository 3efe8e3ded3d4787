"""ComfyUI's `comfy.ldm.lumina`: of the Lumina 2 network, the feed-forward layer packs reuse (`model`)."""
