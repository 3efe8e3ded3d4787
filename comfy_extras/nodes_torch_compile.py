"""TorchCompileModel: the diffusion model compiled with torch.compile for sampling (comfy_api.torch_helpers).

torch compiles on the model's first call, which takes a while; a backend that cannot run on this machine (e.g.
"cudagraphs" without CUDA) is refused with a clear error instead of failing mid-sampling.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io
from comfy_api.torch_helpers import set_torch_compile_wrapper

__all__ = ["TorchCompileExtension", "TorchCompileModel", "comfy_entrypoint"]

BACKENDS = ["inductor", "cudagraphs"]


class TorchCompileModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="TorchCompileModel", category="_for_testing", is_experimental=True,
                         inputs=[io.Model.Input("model"), io.Combo.Input("backend", options=BACKENDS)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, backend: str) -> io.NodeOutput:
        device = torch.device(model.load_device)
        if backend == "cudagraphs" and device.type != "cuda":
            raise ValueError(f"torch.compile's cudagraphs backend needs a CUDA device; this model runs on "
                             f"{device.type}. Use the inductor backend.")
        patched = model.clone()
        set_torch_compile_wrapper(model=patched, backend=backend)
        return io.NodeOutput(patched)


class TorchCompileExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [TorchCompileModel]


async def comfy_entrypoint() -> TorchCompileExtension:
    return TorchCompileExtension()
