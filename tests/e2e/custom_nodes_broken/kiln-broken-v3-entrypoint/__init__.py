"""A V3 pack whose comfy_entrypoint raises."""

from comfy_api.latest import ComfyExtension


class BrokenExtension(ComfyExtension):
    async def get_node_list(self):
        return []


async def comfy_entrypoint() -> BrokenExtension:
    raise RuntimeError("kiln-broken-v3-entrypoint cannot start")
