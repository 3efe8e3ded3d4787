"""A V3 pack whose comfy_entrypoint returns something other than a ComfyExtension."""


def comfy_entrypoint():
    return ["not", "an", "extension"]
