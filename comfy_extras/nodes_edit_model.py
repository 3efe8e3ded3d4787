"""ReferenceLatent: a latent an edit model reads beside the one it denoises (FLUX.1 Kontext); chained nodes add
more, in order."""

from __future__ import annotations

import node_helpers
from comfy_api.latest import ComfyExtension, io

__all__ = ["EditModelExtension", "ReferenceLatent", "comfy_entrypoint"]


class ReferenceLatent(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ReferenceLatent",
            category="advanced/conditioning/edit_models",
            description="This node sets the guiding latent for an edit model. If the model supports it you can "
                        "chain multiple to set multiple reference images.",
            inputs=[io.Conditioning.Input("conditioning"), io.Latent.Input("latent", optional=True)],
            outputs=[io.Conditioning.Output()],
        )

    @classmethod
    def execute(cls, conditioning, latent=None) -> io.NodeOutput:
        if latent is not None:
            conditioning = node_helpers.conditioning_set_values(
                conditioning, {"reference_latents": [latent["samples"]]}, append=True)
        return io.NodeOutput(conditioning)


class EditModelExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [ReferenceLatent]


async def comfy_entrypoint() -> EditModelExtension:
    return EditModelExtension()
