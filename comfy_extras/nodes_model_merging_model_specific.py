"""Block mergers for one architecture each: ModelMergeBlocks with one ratio per block, each ratio input named by
the prefix of ComfyUI's weight names it covers (`input_blocks.4.`, `double_blocks.7.`, ...). The merge itself is
ModelMergeBlocks' (comfy_extras.nodes_model_merging): a weight takes the ratio of its longest matching prefix.

Kiln loads SD1/SD2 (ModelMergeSD1, whose blocks SD2 shares: ModelMergeSD2), SDXL, SD3 medium (ModelMergeSD3_2B)
and large (ModelMergeSD35_Large) and FLUX.1 (ModelMergeFlux1). The mergers of the architectures Kiln does not load
(AuraFlow, Mochi, LTXV, Cosmos, WAN 2.1, Qwen-Image) are here too, with ComfyUI's inputs: on a model of another
architecture none of their prefixes matches, and every weight takes the first ratio, as in ComfyUI.
"""

from __future__ import annotations

from comfy_extras.nodes_model_merging import RATIO, ModelMergeBlocks


def _numbered(prefix: str, count: int, separator: str = ".") -> list[str]:
    return [f"{prefix}{index}{separator}" for index in range(count)]


def _block_inputs(prefixes: list[str]) -> dict:
    return {"required": {"model1": ("MODEL",), "model2": ("MODEL",), **{prefix: RATIO for prefix in prefixes}}}


class _ArchitectureBlocks(ModelMergeBlocks):
    CATEGORY = "advanced/model_merging/model_specific"
    BLOCKS: list[str] = []

    @classmethod
    def INPUT_TYPES(cls):
        return _block_inputs(cls.BLOCKS)


class ModelMergeSD1(_ArchitectureBlocks):
    BLOCKS = (["time_embed.", "label_emb."] + _numbered("input_blocks.", 12) + _numbered("middle_block.", 3)
              + _numbered("output_blocks.", 12) + ["out."])


class ModelMergeSDXL(_ArchitectureBlocks):
    # ComfyUI names SDXL's blocks without the closing dot (it has fewer than ten of each)
    BLOCKS = (["time_embed.", "label_emb."] + _numbered("input_blocks.", 9, "") + _numbered("middle_block.", 3, "")
              + _numbered("output_blocks.", 9, "") + ["out."])


class ModelMergeSD3_2B(_ArchitectureBlocks):  # noqa: N801 - ComfyUI's name
    BLOCKS = ["pos_embed.", "x_embedder.", "context_embedder.", "y_embedder.", "t_embedder."] + \
        _numbered("joint_blocks.", 24) + ["final_layer."]


class ModelMergeAuraflow(_ArchitectureBlocks):
    BLOCKS = (["init_x_linear.", "positional_encoding", "cond_seq_linear.", "register_tokens", "t_embedder."]
              + _numbered("double_layers.", 4) + _numbered("single_layers.", 32) + ["modF.", "final_linear."])


class ModelMergeFlux1(_ArchitectureBlocks):
    BLOCKS = (["img_in.", "time_in.", "guidance_in", "vector_in.", "txt_in."] + _numbered("double_blocks.", 19)
              + _numbered("single_blocks.", 38) + ["final_layer."])


class ModelMergeSD35_Large(_ArchitectureBlocks):  # noqa: N801 - ComfyUI's name
    BLOCKS = ["pos_embed.", "x_embedder.", "context_embedder.", "y_embedder.", "t_embedder."] + \
        _numbered("joint_blocks.", 38) + ["final_layer."]


class ModelMergeMochiPreview(_ArchitectureBlocks):
    BLOCKS = ["pos_frequencies.", "t_embedder.", "t5_y_embedder.", "t5_yproj."] + _numbered("blocks.", 48) + \
        ["final_layer."]


class ModelMergeLTXV(_ArchitectureBlocks):
    BLOCKS = ["patchify_proj.", "adaln_single.", "caption_projection."] + _numbered("transformer_blocks.", 28) + \
        ["scale_shift_table", "proj_out."]


class ModelMergeCosmos7B(_ArchitectureBlocks):
    BLOCKS = ["pos_embedder.", "extra_pos_embedder.", "x_embedder.", "t_embedder.", "affline_norm."] + \
        _numbered("blocks.block", 28) + ["final_layer."]


class ModelMergeCosmos14B(_ArchitectureBlocks):
    BLOCKS = ["pos_embedder.", "extra_pos_embedder.", "x_embedder.", "t_embedder.", "affline_norm."] + \
        _numbered("blocks.block", 36) + ["final_layer."]


class ModelMergeWAN2_1(_ArchitectureBlocks):  # noqa: N801 - ComfyUI's name
    DESCRIPTION = "1.3B model has 30 blocks, 14B model has 40 blocks. Image to video model has the extra img_emb."
    BLOCKS = ["patch_embedding.", "time_embedding.", "time_projection.", "text_embedding.", "img_emb."] + \
        _numbered("blocks.", 40) + ["head."]


class ModelMergeCosmosPredict2_2B(_ArchitectureBlocks):  # noqa: N801 - ComfyUI's name
    BLOCKS = ["pos_embedder.", "x_embedder.", "t_embedder.", "t_embedding_norm."] + _numbered("blocks.", 28) + \
        ["final_layer."]


class ModelMergeCosmosPredict2_14B(_ArchitectureBlocks):  # noqa: N801 - ComfyUI's name
    BLOCKS = ["pos_embedder.", "x_embedder.", "t_embedder.", "t_embedding_norm."] + _numbered("blocks.", 36) + \
        ["final_layer."]


class ModelMergeQwenImage(_ArchitectureBlocks):
    BLOCKS = ["pos_embeds.", "img_in.", "txt_norm.", "txt_in.", "time_text_embed."] + \
        _numbered("transformer_blocks.", 60) + ["proj_out."]


NODE_CLASS_MAPPINGS = {
    "ModelMergeSD1": ModelMergeSD1,
    "ModelMergeSD2": ModelMergeSD1,  # SD2's UNet has SD1's blocks
    "ModelMergeSDXL": ModelMergeSDXL,
    "ModelMergeSD3_2B": ModelMergeSD3_2B,
    "ModelMergeAuraflow": ModelMergeAuraflow,
    "ModelMergeFlux1": ModelMergeFlux1,
    "ModelMergeSD35_Large": ModelMergeSD35_Large,
    "ModelMergeMochiPreview": ModelMergeMochiPreview,
    "ModelMergeLTXV": ModelMergeLTXV,
    "ModelMergeCosmos7B": ModelMergeCosmos7B,
    "ModelMergeCosmos14B": ModelMergeCosmos14B,
    "ModelMergeWAN2_1": ModelMergeWAN2_1,
    "ModelMergeCosmosPredict2_2B": ModelMergeCosmosPredict2_2B,
    "ModelMergeCosmosPredict2_14B": ModelMergeCosmosPredict2_14B,
    "ModelMergeQwenImage": ModelMergeQwenImage,
}
