"""The versioned public API for node authors (`comfy_api.latest`, `comfy_api.v0_0_2`, `comfy_api.v0_0_1`)."""
