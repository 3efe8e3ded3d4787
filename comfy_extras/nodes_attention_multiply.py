"""Attention-weight multipliers: scale the query, key, value and output projections of a model's attention layers.

Each node clones the MODEL or CLIP and adds, for every matching weight and bias, a patch that only multiplies it
(ComfyUI's `(None,)` delta at strength 0 with `strength_model` = the factor, see `comfy.lora.add_weight_patches`).
Layers are found by the ends of their names in the patcher's state dict, which are the same in ComfyUI's LDM UNet
and Kiln's diffusers UNet (`attn1.to_q`, `attn2.to_out.0`, ...) and in both CLIP text models (`self_attn.q_proj`).
"""

from __future__ import annotations

from typing import Any

from comfy_api.latest import ComfyExtension, io

__all__ = ["AttentionMultiplyExtension", "CLIPAttentionMultiply", "UNetCrossAttentionMultiply",
           "UNetSelfAttentionMultiply", "UNetTemporalAttentionMultiply", "attention_multiply",
           "comfy_entrypoint"]

_CATEGORY = "_for_testing/attention_experiments"


def _factor_input(name: str) -> io.Float.Input:
    return io.Float.Input(name, default=1.0, min=0.0, max=10.0, step=0.01)


def _scale_matching(patcher: Any, target: Any, factors: dict[str, float]) -> Any:
    """Add to `target` (a clone) a scaling patch for each weight/bias of `patcher`'s state dict whose layer name
    ends with a key of `factors` ({layer suffix: factor})."""
    for key in patcher.model_state_dict():
        layer, _, parameter = key.rpartition(".")
        if parameter not in ("weight", "bias"):
            continue
        for suffix, factor in factors.items():
            if layer.endswith(suffix):
                target.add_patches({key: (None,)}, 0.0, factor)
    return target


def attention_multiply(attn: str, model: Any, q: float, k: float, v: float, out: float) -> Any:
    """A clone of `model` whose `attn` layers ("attn1": self-attention, "attn2": cross-attention) have their
    q, k, v and output projections multiplied by the given factors."""
    factors = {f"{attn}.to_q": q, f"{attn}.to_k": k, f"{attn}.to_v": v, f"{attn}.to_out.0": out}
    return _scale_matching(model, model.clone(), factors)


def _multiply_schema(node_id: str) -> io.Schema:
    return io.Schema(node_id=node_id, category=_CATEGORY,
                     inputs=[io.Model.Input("model"), *(_factor_input(name) for name in ("q", "k", "v", "out"))],
                     outputs=[io.Model.Output()], is_experimental=True)


class UNetSelfAttentionMultiply(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _multiply_schema("UNetSelfAttentionMultiply")

    @classmethod
    def execute(cls, model: Any, q: float, k: float, v: float, out: float) -> io.NodeOutput:
        return io.NodeOutput(attention_multiply("attn1", model, q, k, v, out))


class UNetCrossAttentionMultiply(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _multiply_schema("UNetCrossAttentionMultiply")

    @classmethod
    def execute(cls, model: Any, q: float, k: float, v: float, out: float) -> io.NodeOutput:
        return io.NodeOutput(attention_multiply("attn2", model, q, k, v, out))


class CLIPAttentionMultiply(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CLIPAttentionMultiply", category=_CATEGORY,
                         inputs=[io.Clip.Input("clip"), *(_factor_input(name) for name in ("q", "k", "v", "out"))],
                         outputs=[io.Clip.Output()], is_experimental=True)

    @classmethod
    def execute(cls, clip: Any, q: float, k: float, v: float, out: float) -> io.NodeOutput:
        patched = clip.clone()
        factors = {"self_attn.q_proj": q, "self_attn.k_proj": k, "self_attn.v_proj": v, "self_attn.out_proj": out}
        return io.NodeOutput(_scale_matching(patched.patcher, patched, factors))


class UNetTemporalAttentionMultiply(io.ComfyNode):
    """Scales the attention outputs of a video UNet, its temporal layers (`.time_stack.`) and its spatial
    ("structural") ones apart; on an image UNet every layer is structural."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="UNetTemporalAttentionMultiply", category=_CATEGORY,
                         inputs=[io.Model.Input("model"),
                                 *(_factor_input(name) for name in ("self_structural", "self_temporal",
                                                                    "cross_structural", "cross_temporal"))],
                         outputs=[io.Model.Output()], is_experimental=True)

    @classmethod
    def execute(cls, model: Any, self_structural: float, self_temporal: float, cross_structural: float,
                cross_temporal: float) -> io.NodeOutput:
        patched = model.clone()
        for key in model.model_state_dict():
            layer, _, parameter = key.rpartition(".")
            if parameter not in ("weight", "bias"):
                continue
            temporal = ".time_stack." in key
            if layer.endswith("attn1.to_out.0"):
                patched.add_patches({key: (None,)}, 0.0, self_temporal if temporal else self_structural)
            elif layer.endswith("attn2.to_out.0"):
                patched.add_patches({key: (None,)}, 0.0, cross_temporal if temporal else cross_structural)
        return io.NodeOutput(patched)


class AttentionMultiplyExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [UNetSelfAttentionMultiply, UNetCrossAttentionMultiply, CLIPAttentionMultiply,
                UNetTemporalAttentionMultiply]


async def comfy_entrypoint() -> AttentionMultiplyExtension:
    return AttentionMultiplyExtension()
