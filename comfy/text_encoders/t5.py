"""The T5 v1.1 text encoder of Flux and SD3 (T5-XXL), built with transformers from ComfyUI's t5xxl files.

- Layout: `shared.weight` (the token embedding) and `encoder.*` (`encoder.block.N.layer.0.SelfAttention.{q,k,v,o}`,
  `encoder.block.0.layer.0.SelfAttention.relative_attention_bias`, `encoder.block.N.layer.1.DenseReluDense.*`,
  the layer norms, `encoder.final_layer_norm.weight`): the keys of transformers' `T5EncoderModel`, as ComfyUI's
  `t5xxl_*.safetensors` files and the T5 part of all-in-one checkpoints hold them.
- Sizes come from the shapes (T5-XXL: width 4096, 24 blocks, 64 heads of 64, MLP 10240, 32128 ids), so reduced
  test models load too.
- Weights stay in the file's dtype (fp32, fp16, bf16, `float8_e4m3fn`, `float8_e5m2`): every Linear and the token
  embedding cast their weight to float32 when used, so a 4.7 B-parameter fp8 T5 needs 4.8 GB, not 19 GB. Only
  the norm scales and the relative-position table (a few KB) are held in float32. ComfyUI's `scaled_fp8` files
  (a `scaled_fp8` marker key and a `<layer>.scale_weight` per fp8 Linear) multiply each weight by its scale after
  the cast; `<layer>.scale_input` (for fp8 matrix multiplies) is not needed.
- `T5XXLModel.encode_token_weights` encodes with ComfyUI's rules: no attention mask (pads are encoded like any
  token), float32 compute, weights applied as `(z - z_empty) * w + z_empty` against the sequence `[1, 0, 0, ...]`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch
from transformers import T5Config, T5EncoderModel
from transformers.models.t5.modeling_t5 import T5DenseActDense, T5DenseGatedActDense

from comfy import families, sd1_clip
from comfy.manual_cast import CastLinear
from comfy.text_encoders.clip_configs import TextEncoderLoadError

SPECIAL_TOKENS = {"end": 1, "pad": 0}
"""T5's `</s>` ends a prompt and `<pad>` fills it; there is no start token. The "empty" sequence is `[1, 0, ...]`."""

SCALED_FP8_MARKER = "scaled_fp8"
SCALE_WEIGHT_SUFFIX = ".scale_weight"
SCALE_INPUT_SUFFIX = ".scale_input"
EMBEDDING_KEY = "shared.weight"
TIED_EMBEDDING_KEY = "encoder.embed_tokens.weight"
# A full encoder-decoder T5 file also holds the decoder, which text encoding never runs.
UNUSED_PREFIXES = ("decoder.", "lm_head.")

# Public facts of google/t5-v1_1-xxl's config; the relative-position settings are shared by every T5.
T5_XXL_SIZES = {"d_model": 4096, "num_layers": 24, "num_heads": 64, "d_kv": 64, "d_ff": 10240, "vocab_size": 32128}
RELATIVE_ATTENTION_MAX_DISTANCE = 128
LAYER_NORM_EPSILON = 1e-6


# --- configs ---------------------------------------------------------------------------------------------


def t5_config(d_model: int, num_layers: int, num_heads: int, d_kv: int, d_ff: int, vocab_size: int,
              relative_attention_num_buckets: int = 32, gated: bool = True) -> T5Config:
    """An encoder-only `T5Config` (v1.1: gated-GELU MLP, or the original ReLU MLP when not `gated`)."""
    config = T5Config(d_model=d_model, num_layers=num_layers, num_heads=num_heads, d_kv=d_kv, d_ff=d_ff,
                      vocab_size=vocab_size, feed_forward_proj="gated-gelu" if gated else "relu",
                      relative_attention_num_buckets=relative_attention_num_buckets,
                      relative_attention_max_distance=RELATIVE_ATTENTION_MAX_DISTANCE,
                      layer_norm_epsilon=LAYER_NORM_EPSILON, dropout_rate=0.0, is_encoder_decoder=False,
                      use_cache=False, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1)
    config._attn_implementation = "sdpa"
    return config


def t5_xxl_config() -> T5Config:
    """T5 v1.1 XXL: width 4096, 24 blocks, 64 heads of 64, gated-GELU MLP of 10240, 32128 ids, 32 buckets."""
    return t5_config(**T5_XXL_SIZES)


def is_t5_state_dict(sd: Mapping[str, Any]) -> bool:
    """Whether a bare state dict holds a T5 encoder (`encoder.block.*` or T5's `shared.weight` embedding)."""
    return any(key.startswith("encoder.block.") for key in sd) or (
        EMBEDDING_KEY in sd and any(key.startswith("encoder.final_layer_norm") for key in sd))


def checkpoint_t5(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    """The T5 part of a single-file checkpoint (or a CLIP's state dict) with its prefix removed, or None when
    there is none; the prefixes are the families' (`comfy.families.text_encoder_locations`)."""
    for prefix, _, layout in families.text_encoder_locations():
        if layout != "t5":
            continue
        part = {key[len(prefix):]: value for key, value in sd.items() if key.startswith(prefix)}
        if part:
            return part
    return None


def t5_config_from_state_dict(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> T5Config:
    """Read the T5 sizes from the shapes: width and ids from the embedding, heads and buckets from the
    relative-position table `[buckets, heads]`, head width from `q`, MLP width and kind from `wi_0` / `wi`."""
    prefix = "encoder.block.0.layer."
    try:
        embedding = sd[EMBEDDING_KEY] if EMBEDDING_KEY in sd else sd[TIED_EMBEDDING_KEY]
        relative_bias = sd[f"{prefix}0.SelfAttention.relative_attention_bias.weight"]
        query = sd[f"{prefix}0.SelfAttention.q.weight"]
        gated = f"{prefix}1.DenseReluDense.wi_0.weight" in sd
        mlp_in = sd[f"{prefix}1.DenseReluDense.{'wi_0' if gated else 'wi'}.weight"]
    except KeyError as missing:
        raise TextEncoderLoadError(f"{source} is not a T5 text encoder: key {missing} is missing "
                                   f"(keys start {sorted(sd)[:5]}).") from None
    blocks = {int(key.split(".")[2]) for key in sd if key.startswith("encoder.block.")}
    buckets, heads = relative_bias.shape
    return t5_config(d_model=embedding.shape[1], num_layers=max(blocks) + 1, num_heads=heads,
                     d_kv=query.shape[0] // heads, d_ff=mlp_in.shape[0], vocab_size=embedding.shape[0],
                     relative_attention_num_buckets=buckets, gated=gated)


# --- per-layer casting -----------------------------------------------------------------------------------


class ScaledCastLinear(CastLinear):
    """A Linear of a `scaled_fp8` file: `weight.to(x.dtype) * scale_weight` for each call."""

    scale_weight: torch.Tensor

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 - torch's name
        weight = self.weight.to(input.dtype) * self.scale_weight.to(device=input.device, dtype=input.dtype)
        bias = None if self.bias is None else self.bias.to(input.dtype)
        return torch.nn.functional.linear(input, weight, bias)


class GatedFeedForward(T5DenseGatedActDense):
    """T5 v1.1's MLP without transformers' cast of the activations to `wo`'s stored dtype (fp8 would wreck them);
    the layers cast their weights to the activations' dtype instead."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.act(self.wi_0(hidden_states)) * self.wi_1(hidden_states))


class FeedForward(T5DenseActDense):
    """The original T5 MLP (one `wi`, ReLU), without the cast to `wo`'s stored dtype."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.act(self.wi(hidden_states)))


_FEED_FORWARD_CLASSES = {T5DenseGatedActDense: GatedFeedForward, T5DenseActDense: FeedForward}


def _split_scaled_fp8(sd: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(weights, {layer name: scale}) from a state dict that may be in ComfyUI's `scaled_fp8` format."""
    weights: dict[str, torch.Tensor] = {}
    scales: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        if key == SCALED_FP8_MARKER or key.endswith(SCALE_INPUT_SUFFIX):
            continue
        if key.endswith(SCALE_WEIGHT_SUFFIX):
            scales[key[: -len(SCALE_WEIGHT_SUFFIX)]] = value.reshape(())
            continue
        weights[key] = value
    return weights, scales


def _check_keys(expected: Mapping[str, torch.Tensor], weights: Mapping[str, torch.Tensor],
                scales: Mapping[str, torch.Tensor], linear_names: set[str], config: T5Config, source: str) -> None:
    missing = [key for key in expected if key not in weights]
    unexpected = [key for key in weights if key not in expected]
    unexpected += [f"{name}{SCALE_WEIGHT_SUFFIX}" for name in scales if name not in linear_names]
    wrong_shape = [f"{key} {tuple(weights[key].shape)} (expected {tuple(value.shape)})"
                   for key, value in expected.items() if key in weights and weights[key].shape != value.shape]
    if not (missing or unexpected or wrong_shape):
        return
    problems = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong_shape)):
        if keys:
            problems.append(f"{label} {keys[:5]}" + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""))
    raise TextEncoderLoadError(
        f"T5 weights in {source} do not fit a {config.d_model}-wide, {config.num_layers}-block T5 encoder "
        f"({config.num_heads} heads, MLP {config.d_ff}, {config.vocab_size} ids, sizes read from "
        "'shared.weight', block 0 and the block count): " + "; ".join(problems))


def load_t5_weights(model: T5EncoderModel, sd: Mapping[str, torch.Tensor], source: str,
                    feed_forward_classes: Mapping[type, type] | None = None) -> None:
    """Put `sd` (bare T5 keys, plain or `scaled_fp8`) into `model` after an exact key and shape check.

    Linear weights and the embedding keep their stored dtype and cast per call; norms and the relative-position
    table become float32. `feed_forward_classes` maps the model's MLP classes to ones that do not cast their
    activations to the stored dtype (default: T5's; UMT5 passes its own). Raises `TextEncoderLoadError` naming
    `source` and the first offending keys.
    """
    weights, scales = _split_scaled_fp8(sd)
    if TIED_EMBEDDING_KEY in weights:
        embedding = weights.pop(TIED_EMBEDDING_KEY)
        weights.setdefault(EMBEDDING_KEY, embedding)
    unused = [key for key in weights if key.startswith(UNUSED_PREFIXES)]
    if unused:
        logging.info("%s: ignoring %d decoder keys of a full T5 (text encoding uses the encoder only)",
                     source, len(unused))
        weights = {key: value for key, value in weights.items() if not key.startswith(UNUSED_PREFIXES)}
    expected = {key: value for key, value in model.state_dict().items() if key != TIED_EMBEDDING_KEY}
    linears = {name: module for name, module in model.named_modules() if type(module) is torch.nn.Linear}
    _check_keys(expected, weights, scales, set(linears), model.config, source)

    for key, value in weights.items():
        module_name, _, name = key.rpartition(".")
        module = model.get_submodule(module_name)
        keep_dtype = module_name in linears or key == EMBEDDING_KEY
        tensor = value.detach() if keep_dtype else value.detach().to(torch.float32)
        setattr(module, name, torch.nn.Parameter(tensor, requires_grad=False))
    for name, module in linears.items():
        if scales:
            module.__class__ = ScaledCastLinear
            scale = scales.get(name, torch.ones(()))
            module.register_buffer("scale_weight", scale.detach().to(torch.float32), persistent=True)
        else:
            module.__class__ = CastLinear
    replacements = _FEED_FORWARD_CLASSES if feed_forward_classes is None else feed_forward_classes
    for module in model.modules():
        replacement = replacements.get(type(module))
        if replacement is not None:
            module.__class__ = replacement
    model.encoder.set_input_embeddings(model.shared)  # re-tie: assigning `shared` left the encoder's copy on meta


def empty_t5_model(config: T5Config) -> T5EncoderModel:
    """A `T5EncoderModel` on the meta device, waiting for `load_t5_weights`."""
    with torch.device("meta"):
        model = T5EncoderModel(config)
    return model.eval()


# --- encoder ---------------------------------------------------------------------------------------------


class T5XXLModel(torch.nn.Module, sd1_clip.ClipTokenWeightEncoder):
    """T5-XXL as Flux and SD3 use it: `encode_token_weights([[(id, weight), ...]])` → `(cond [1, n, width], None)`.

    Built empty from `config` (default T5 v1.1 XXL) and filled by `load_sd`; its state dict is transformers'
    (`shared.weight`, `encoder.*`, plus `*.scale_weight` for a scaled_fp8 file). `layer` "last" gives the final
    layer norm's output; a "layer" option of -2, -3, ... (CLIPSetLastLayer) gives that block's output, normed.
    """

    def __init__(self, config: T5Config | None = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype | None = None, model_options: dict | None = None, layer: str = "last",
                 layer_idx: int | None = None):
        super().__init__()
        self.transformer = self.empty_network(config)
        self.num_layers = self.transformer.config.num_layers
        self.special_tokens = dict(SPECIAL_TOKENS)
        self.layer = layer
        self.layer_idx = layer_idx
        self.options_default = (layer, layer_idx)
        self.dtypes = {torch.float32}

    @staticmethod
    def empty_network(config: T5Config | None) -> torch.nn.Module:
        """The encoder built without weights from `config` (default T5 v1.1 XXL)."""
        return empty_t5_model(config if config is not None else t5_xxl_config())

    def set_clip_options(self, options: dict[str, Any]) -> None:
        layer_idx = options.get("layer", self.layer_idx)
        if layer_idx is None or abs(layer_idx) > self.num_layers:
            self.layer = "last"
        else:
            self.layer, self.layer_idx = "hidden", layer_idx

    def reset_clip_options(self) -> None:
        self.layer, self.layer_idx = self.options_default

    def load_sd(self, sd: Mapping[str, torch.Tensor], source: str = "T5 state dict") -> tuple[list, list]:
        """Load bare T5 weights (any float dtype, plain or scaled_fp8); a mismatch raises naming `source`."""
        load_t5_weights(self.transformer, sd, source)
        return [], []

    def embed_tokens(self, tokens: list[list[sd1_clip.Token]]) -> torch.Tensor:
        """Float32 input embeddings `[batch, length, width]`; `embedding:` vectors (1-D tensors) go in as given."""
        table = self.transformer.shared.weight
        sequences = []
        for sequence in tokens:
            ids = torch.tensor([int(t) for t in sequence if not isinstance(t, torch.Tensor)], dtype=torch.long,
                               device=table.device)
            looked_up = iter(table[ids].to(torch.float32))
            rows = [token.to(device=table.device, dtype=torch.float32).reshape(-1)
                    if isinstance(token, torch.Tensor) else next(looked_up) for token in sequence]
            sequences.append(torch.stack(rows) if rows else table.new_zeros((0, table.shape[1]), dtype=torch.float32))
        return torch.stack(sequences)

    def forward(self, tokens: list[list[sd1_clip.Token]]) -> tuple[torch.Tensor, None]:
        """Encode equal-length token lists without an attention mask; `(z [batch, length, width], None)`."""
        embeds = self.embed_tokens(tokens)
        hidden = self.layer == "hidden" and self.layer_idx not in (-1, self.num_layers - 1)
        output = self.transformer.encoder(inputs_embeds=embeds, output_hidden_states=hidden)
        if not hidden:
            return output.last_hidden_state.float(), None
        # hidden_states[k + 1] is block k's output (the inputs of the next block).
        block = self.layer_idx if self.layer_idx >= 0 else self.num_layers + self.layer_idx
        z = self.transformer.encoder.final_layer_norm(output.hidden_states[block + 1])
        return z.float(), None

    def encode(self, tokens: list[list[sd1_clip.Token]]) -> tuple[torch.Tensor, None]:
        with torch.inference_mode():
            return self(tokens)


def load_t5_encoder(sd: Mapping[str, torch.Tensor], source: str = "T5 state dict") -> T5XXLModel:
    """A loaded `T5XXLModel` from bare T5 weights, its sizes read from the shapes."""
    encoder = T5XXLModel(config=t5_config_from_state_dict(sd, source))
    encoder.load_sd(sd, source)
    return encoder


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class  # noqa: E402

_REASON = 'Kiln has no `t5` text encoder'

T5 = unsupported_class(__name__, 'T5', 'config_dict, dtype, device, operations', _REASON)
T5Attention = unsupported_class(__name__, 'T5Attention', 'model_dim, inner_dim, num_heads, relative_attention_bias, dtype, device, operations', _REASON)
T5Block = unsupported_class(__name__, 'T5Block', 'model_dim, inner_dim, ff_dim, ff_activation, gated_act, num_heads, relative_attention_bias, dtype, device, operations', _REASON)
T5LayerFF = unsupported_class(__name__, 'T5LayerFF', 'model_dim, ff_dim, ff_activation, gated_act, dtype, device, operations', _REASON)
T5LayerNorm = unsupported_class(__name__, 'T5LayerNorm', 'hidden_size, eps=, dtype=, device=, operations=', _REASON)
T5LayerSelfAttention = unsupported_class(__name__, 'T5LayerSelfAttention', 'model_dim, inner_dim, ff_dim, num_heads, relative_attention_bias, dtype, device, operations', _REASON)
T5Stack = unsupported_class(__name__, 'T5Stack', 'num_layers, model_dim, inner_dim, ff_dim, ff_activation, gated_act, num_heads, relative_attention, dtype, device, operations', _REASON)
activations = UnsupportedValue(__name__, 'activations', _REASON)
