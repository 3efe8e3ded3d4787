"""The UMT5-XXL text encoder of Wan 2.1 / 2.2, built with transformers' `UMT5EncoderModel` from ComfyUI's
`umt5_xxl_*.safetensors` files.

- Layout: T5's keys (`shared.weight`, `encoder.block.N.layer.{0,1}.*`, `encoder.final_layer_norm.weight`), but
  every block holds its own `SelfAttention.relative_attention_bias` (T5 v1.1 has one, in block 0), which is why
  this is transformers' `UMT5EncoderModel` and not Kiln's T5: transformers' T5 computes the position bias once
  and reuses it in every block. Sizes come from the shapes (UMT5-XXL: width 4096, 24 blocks, 64 heads of 64,
  gated-GELU MLP of 10240, 256384 ids), so reduced test models load too.
- Weights stay in the file's dtype (fp16, bf16, fp8, ComfyUI's `scaled_fp8`) and cast per layer to float32, with
  T5-XXL's loader (`t5.load_t5_weights`): no second full-precision copy.
- The tokenizer is the SentencePiece model the file carries as the uint8 tensor `spiece_model`
  (`sentencepiece_model.SentencePieceTokenizer`). `UMT5XXLTokenizer` applies ComfyUI's rules: weights parsed with
  the CLIP parser, each weighted run tokenized alone, no start token, one end token (`</s>`, id 1) after the
  last run, padded with id 0 to at least 512 tokens, no maximum and no chunking.
- `embedding:name` stays text (ComfyUI 0.3.64 gives this tokenizer no embeddings folder).
- `UMT5XXLModel.encode_token_weights` encodes as ComfyUI's Wan encoder does: float32 compute, an attention mask
  that hides everything after the first end token, those positions zeroed in the output, no pooled output
  (None), weights applied as `(z - z_empty) * w + z_empty` against `[1, 0, 0, ...]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from transformers import UMT5Config, UMT5EncoderModel
from transformers.models.umt5.modeling_umt5 import UMT5DenseActDense, UMT5DenseGatedActDense

from comfy import sd1_clip
from comfy.text_encoders import t5
from comfy.text_encoders.clip_configs import TextEncoderLoadError
from comfy.text_encoders.sentencepiece_model import SentencePieceModelError, SentencePieceTokenizer, parse_model_proto

SPECIAL_TOKENS = {"end": 1, "pad": 0}
TOKENIZER_KEY = "spiece_model"
"""The key of the uint8 tensor holding the SentencePiece ModelProto in ComfyUI's umt5 files."""
MIN_LENGTH = 512
# UMT5 has relative positions, so a prompt has no length limit; a large max_length turns chunking off.
NO_MAX_LENGTH = 99_999_999
PAD_ID = 0
EMBEDDING_SIZE = 4096
EMBEDDING_KEY = "umt5xxl"
UMT5_XXL_SIZES = {"d_model": 4096, "num_layers": 24, "num_heads": 64, "d_kv": 64, "d_ff": 10240, "vocab_size": 256384}
_FIRST_BLOCK = "encoder.block.0.layer."


# --- tokenizer -------------------------------------------------------------------------------------------


class UMT5XXLTokenizer(sd1_clip.SDTokenizer):
    """UMT5 tokenization with ComfyUI's weighting and padding rules; no chunking, no `embedding:` lookup.

    `tokenizer_data["spiece_model"]` is the file's SentencePiece model (uint8 tensor or bytes).
    `tokenize_with_weights(text)` returns one sequence in a list, `[[(id, weight), ...]]`, at least 512 long
    (`tokenizer_data["umt5xxl_min_length"]` or the tokenizer option `umt5xxl_min_length` change that).
    `embedding:name` is tokenized as text, as ComfyUI 0.3.64 does for this encoder (its UMT5 tokenizer drops
    the embeddings folder); `embedding_directory` is accepted for the loaders' common signature.
    """

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        tokenizer_data = tokenizer_data or {}
        model_proto = tokenizer_data.get(TOKENIZER_KEY)
        if model_proto is None:
            raise TextEncoderLoadError(
                "The UMT5 tokenizer needs the SentencePiece model that ComfyUI's umt5_xxl files carry as the uint8 "
                f"tensor '{TOKENIZER_KEY}'; none was given.")
        spiece = SentencePieceTokenizer(model_proto)
        # ComfyUI 0.3.64's UMT5 tokenizer does not pass its embeddings folder on, so `embedding:name` in a Wan
        # prompt is plain text there; the same here, for the same ids.
        super().__init__(None, max_length=tokenizer_data.get(f"{EMBEDDING_KEY}_max_length", NO_MAX_LENGTH),
                         pad_with_end=False, embedding_directory=None,
                         embedding_size=EMBEDDING_SIZE, embedding_key=EMBEDDING_KEY, has_start_token=False,
                         pad_to_max_length=False,
                         min_length=tokenizer_data.get(f"{EMBEDDING_KEY}_min_length", MIN_LENGTH),
                         pad_token=PAD_ID, end_token=spiece.model.eos_id, tokenizer_data=tokenizer_data)
        # SDTokenizer sets itself up with the CLIP tokenizer; the file's SentencePiece model replaces it here.
        self.tokenizer = spiece
        self.inv_vocab = {index: piece for piece, index in spiece.get_vocab().items()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {TOKENIZER_KEY: torch.frombuffer(bytearray(self.tokenizer.serialize_model()), dtype=torch.uint8)}


class WanT5Tokenizer(sd1_clip.SD1Tokenizer):
    """Named wrapper: `tokenize_with_weights(text)` → `{"umt5xxl": [[(id, weight), ...]]}`."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        super().__init__(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data, clip_name="umt5xxl",
                         tokenizer=UMT5XXLTokenizer)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.clip_umt5xxl.state_dict()


# --- configs and detection -------------------------------------------------------------------------------


def umt5_config(d_model: int, num_layers: int, num_heads: int, d_kv: int, d_ff: int, vocab_size: int,
                relative_attention_num_buckets: int = 32, gated: bool = True) -> UMT5Config:
    """An encoder-only `UMT5Config` (gated-GELU MLP with the tanh GELU, or a ReLU MLP when not `gated`)."""
    config = UMT5Config(d_model=d_model, num_layers=num_layers, num_heads=num_heads, d_kv=d_kv, d_ff=d_ff,
                        vocab_size=vocab_size, feed_forward_proj="gated-gelu" if gated else "relu",
                        relative_attention_num_buckets=relative_attention_num_buckets,
                        relative_attention_max_distance=t5.RELATIVE_ATTENTION_MAX_DISTANCE,
                        layer_norm_epsilon=t5.LAYER_NORM_EPSILON, dropout_rate=0.0, is_encoder_decoder=False,
                        use_cache=False, tie_word_embeddings=False, pad_token_id=0, eos_token_id=1)
    config._attn_implementation = "sdpa"
    return config


def umt5_xxl_config() -> UMT5Config:
    """UMT5-XXL: width 4096, 24 blocks, 64 heads of 64, gated-GELU MLP of 10240, 256384 ids, 32 buckets."""
    return umt5_config(**UMT5_XXL_SIZES)


def is_umt5_state_dict(sd: Mapping[str, Any]) -> bool:
    """Whether bare T5-layout keys are UMT5's: a relative-position table in a block other than the first."""
    return any(key.startswith("encoder.block.") and key.endswith(".SelfAttention.relative_attention_bias.weight")
               and not key.startswith("encoder.block.0.") for key in sd)


def umt5_config_from_state_dict(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> UMT5Config:
    """Read the UMT5 sizes from the shapes: width and ids from the embedding, heads and buckets from the
    relative-position table `[buckets, heads]`, head width from `q`, MLP width and kind from `wi_0` / `wi`, the
    block count from the block keys."""
    try:
        embedding = sd[t5.EMBEDDING_KEY] if t5.EMBEDDING_KEY in sd else sd[t5.TIED_EMBEDDING_KEY]
        relative_bias = sd[f"{_FIRST_BLOCK}0.SelfAttention.relative_attention_bias.weight"]
        query = sd[f"{_FIRST_BLOCK}0.SelfAttention.q.weight"]
        gated = f"{_FIRST_BLOCK}1.DenseReluDense.wi_0.weight" in sd
        mlp_in = sd[f"{_FIRST_BLOCK}1.DenseReluDense.{'wi_0' if gated else 'wi'}.weight"]
    except KeyError as missing:
        raise TextEncoderLoadError(f"{source} is not a UMT5 text encoder: key {missing} is missing "
                                   f"(keys start {sorted(sd)[:5]}).") from None
    blocks = {int(key.split(".")[2]) for key in sd if key.startswith("encoder.block.")}
    buckets, heads = relative_bias.shape
    return umt5_config(d_model=embedding.shape[1], num_layers=max(blocks) + 1, num_heads=heads,
                       d_kv=query.shape[0] // heads, d_ff=mlp_in.shape[0], vocab_size=embedding.shape[0],
                       relative_attention_num_buckets=buckets, gated=gated)


def describe_umt5_mismatch(sd: Mapping[str, Any], source: str) -> str | None:
    """Why `sd` (bare keys) is not a UMT5 text encoder, in words for an error, or None when it is one."""
    if is_umt5_state_dict(sd):
        return None
    expected = ("Wan's text encoder is UMT5-XXL (ComfyUI's umt5_xxl_fp16 / umt5_xxl_fp8_e4m3fn_scaled files): T5 "
                "keys 'encoder.block.N.*' with a 'SelfAttention.relative_attention_bias' table in every block, "
                "256384 ids, and its SentencePiece tokenizer as 'spiece_model'")
    if t5.is_t5_state_dict(sd):
        embedding = sd.get(t5.EMBEDDING_KEY, sd.get(t5.TIED_EMBEDDING_KEY))
        ids = f", {embedding.shape[0]} ids" if embedding is not None else ""
        return (f"{source} is a T5 text encoder with a position table in its first block only (T5 v1.1 / "
                f"T5-XXL{ids}), not UMT5. {expected}.")
    if any("token_embedding" in key or "resblocks" in key for key in sd):
        return f"{source} is a CLIP text encoder, not UMT5. {expected}."
    return f"{source} is not a UMT5 text encoder (keys start {sorted(sd)[:5]}). {expected}."


# --- encoder ---------------------------------------------------------------------------------------------


class GatedFeedForward(UMT5DenseGatedActDense):
    """UMT5's gated MLP without transformers' cast of the activations to `wo`'s stored dtype (see t5.py)."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.act(self.wi_0(hidden_states)) * self.wi_1(hidden_states))


class FeedForward(UMT5DenseActDense):
    """UMT5's plain MLP without the cast to `wo`'s stored dtype."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.act(self.wi(hidden_states)))


_FEED_FORWARD_CLASSES = {UMT5DenseGatedActDense: GatedFeedForward, UMT5DenseActDense: FeedForward}


def attention_mask(tokens: Sequence[Sequence[sd1_clip.Token]], end_token: int) -> torch.Tensor:
    """`[batch, length]` 1/0: ids up to and including the first end token count, later ids do not; embedding
    vectors (tensors) always count (ComfyUI's rule)."""
    masks = []
    for sequence in tokens:
        ended = False
        row = []
        for token in sequence:
            if isinstance(token, torch.Tensor):
                row.append(1)
                continue
            row.append(0 if ended else 1)
            ended = ended or int(token) == end_token
        masks.append(row)
    return torch.tensor(masks, dtype=torch.long)


class UMT5XXLModel(t5.T5XXLModel):
    """UMT5-XXL as Wan uses it: `encode_token_weights([[(id, weight), ...]])` → `(cond [1, n, width], None)`.

    T5-XXL's encoder object (layer options, embeddings, CLIPSetLastLayer) over transformers' UMT5 (a position
    table in every block), built empty from `config` (default UMT5-XXL) and filled by `load_sd`; its state dict is
    transformers' (`shared.weight`, `encoder.*`, plus `*.scale_weight` for a scaled_fp8 file). Positions after the
    first end token are masked in attention and zero in the output.
    """

    def __init__(self, device: str | torch.device = "cpu", layer: str = "last", layer_idx: int | None = None,
                 dtype: torch.dtype | None = None, model_options: dict | None = None,
                 config: UMT5Config | None = None):
        super().__init__(config=config, device=device, dtype=dtype, model_options=model_options, layer=layer,
                         layer_idx=layer_idx)

    @staticmethod
    def empty_network(config: UMT5Config | None) -> torch.nn.Module:
        with torch.device("meta"):
            return UMT5EncoderModel(config if config is not None else umt5_xxl_config()).eval()

    def load_sd(self, sd: Mapping[str, torch.Tensor], source: str = "UMT5 state dict") -> tuple[list, list]:
        """Load bare UMT5 weights (any float dtype, plain or scaled_fp8; `spiece_model` is ignored here)."""
        weights = {key: value for key, value in sd.items() if key != TOKENIZER_KEY}
        t5.load_t5_weights(self.transformer, weights, source, _FEED_FORWARD_CLASSES)
        return [], []

    def embed_tokens(self, tokens: list[list[sd1_clip.Token]]) -> torch.Tensor:
        embeds = super().embed_tokens(tokens)
        if self.transformer.shared.weight.dtype.itemsize == 1:  # an fp8 table may hold NaN codes; ComfyUI zeroes them
            embeds = torch.nan_to_num(embeds)
        return embeds

    def forward(self, tokens: list[list[sd1_clip.Token]]) -> tuple[torch.Tensor, None]:
        """Encode equal-length token lists; `(z [batch, length, width], None)`, zero after the first end token."""
        embeds = self.embed_tokens(tokens)
        mask = attention_mask(tokens, self.special_tokens["end"]).to(embeds.device)
        hidden = self.layer == "hidden" and self.layer_idx not in (-1, self.num_layers - 1)
        captured: list[torch.Tensor] = []
        handle = None
        if hidden:
            block = self.layer_idx if self.layer_idx >= 0 else self.num_layers + self.layer_idx
            handle = self.transformer.encoder.block[block].register_forward_hook(
                lambda module, args, output: captured.append(output[0] if isinstance(output, tuple) else output))
        try:
            output = self.transformer.encoder(inputs_embeds=embeds, attention_mask=mask)
        finally:
            if handle is not None:
                handle.remove()
        z = self.transformer.encoder.final_layer_norm(captured[0]) if hidden else output.last_hidden_state
        return z.float() * mask.unsqueeze(-1).to(torch.float32), None


class WanT5Model(sd1_clip.SD1ClipModel):
    """Named wrapper: `encode_token_weights({"umt5xxl": [sequence]})` → `(cond [1, n, width], None)`; the encoder
    is the attribute `umt5xxl` (state-dict names `umt5xxl.transformer.*`, as ComfyUI's).

    `config=` (a `UMT5Config`, read from the file's shapes) gives the sizes; default UMT5-XXL.
    """

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, **kwargs: Any):
        super().__init__(device=device, dtype=dtype, model_options=model_options, name="umt5xxl",
                         clip_model=UMT5XXLModel, **kwargs)


def tokenizer_data_of(sd: Mapping[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """`{"spiece_model": tensor}` from a UMT5 file, checked; a file without it raises naming `source`."""
    model_proto = sd.get(TOKENIZER_KEY)
    if model_proto is None:
        raise TextEncoderLoadError(
            f"{source} has no tokenizer: ComfyUI's Wan text encoder files (umt5_xxl_fp16.safetensors, "
            f"umt5_xxl_fp8_e4m3fn_scaled.safetensors) carry their SentencePiece model as the uint8 tensor "
            f"'{TOKENIZER_KEY}', and this file has no such key.")
    try:
        parse_model_proto(model_proto.cpu().numpy().tobytes() if hasattr(model_proto, "numpy") else model_proto)
    except SentencePieceModelError as error:
        raise TextEncoderLoadError(f"{source}: its '{TOKENIZER_KEY}' tensor is not a usable SentencePiece "
                                   f"model ({error}).") from None
    return {TOKENIZER_KEY: model_proto}


def load_umt5_encoder(sd: Mapping[str, torch.Tensor], source: str = "UMT5 state dict") -> UMT5XXLModel:
    """A loaded `UMT5XXLModel` from bare UMT5 weights, its sizes read from the shapes."""
    encoder = UMT5XXLModel(config=umt5_config_from_state_dict(sd, source))
    encoder.load_sd(sd, source)
    return encoder
