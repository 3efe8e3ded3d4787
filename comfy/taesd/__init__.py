"""Tiny autoencoders (ComfyUI's `comfy.taesd`): TAESD, for fast latent previews (`taesd`)."""
