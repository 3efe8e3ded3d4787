"""SD1.x CLIP-L text encoding, ComfyUI-compatible: prompt weighting, textual inversions, 77-token chunks, clip skip.

The pieces, in the order a prompt flows through them:
- `parse_prompt_weights` reads ComfyUI's weighting syntax: `(text)` ×1.1 per level, `(text:1.3)` sets the weight,
  `\\(` `\\)` are literal parentheses, `[text]` is plain text.
- `SDTokenizer.tokenize_with_weights` turns a prompt into 77-token chunks of `(token, weight)` pairs; a token is an
  int id or, for an `embedding:name` textual inversion, one embedding vector (1-D tensor).
- `SDClipModel.encode_token_weights` runs a transformers CLIP text model on the chunks and applies the weights as
  ComfyUI does: `z = (z - z_empty) * w + z_empty` per token, chunks concatenated on the token axis.
- `SD1Tokenizer` / `SD1ClipModel` wrap one tokenizer / encoder under a name (`"l"`), the form `comfy.sd.CLIP` uses.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any, Union

import torch
from transformers import CLIPTextConfig, CLIPTextModelWithProjection

from comfy import model_management
from comfy.text_encoders import clip_configs
from comfy.text_encoders.clip_tokenizer import clip_tokenizer

Token = Union[int, torch.Tensor]
"""A chunk entry: a vocabulary id, or one embedding vector `[width]` from a textual inversion."""

EMBEDDING_EXTENSIONS = (".safetensors", ".pt", ".bin")

# ComfyUI protects escaped parentheses from the weight parser by swapping them for control characters.
_ESCAPED_CLOSE = "\0\1"
_ESCAPED_OPEN = "\0\2"


# --- prompt weighting ------------------------------------------------------------------------------------


def escape_important(text: str) -> str:
    """Hide `\\(` and `\\)` from the weight parser."""
    return text.replace("\\)", _ESCAPED_CLOSE).replace("\\(", _ESCAPED_OPEN)


def unescape_important(text: str) -> str:
    """Turn hidden escapes back into literal `(` and `)`."""
    return text.replace(_ESCAPED_CLOSE, ")").replace(_ESCAPED_OPEN, "(")


def _split_top_level_groups(text: str) -> list[str]:
    """Split `text` into plain runs and outermost `( ... )` groups (kept with their parentheses).

    A `)` with no open group drives the depth negative, and ComfyUI then treats parentheses as plain text until
    the depth is back at zero; an unclosed `(` group runs to the end of the text.
    """
    pieces: list[str] = []
    current = ""
    depth = 0
    for char in text:
        if char == "(" and depth == 0:
            if current:
                pieces.append(current)
            current = "("
            depth = 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                pieces.append(current + ")")
                current = ""
                continue
        current += char
    if current:
        pieces.append(current)
    return pieces


def parse_prompt_weights(text: str, weight: float = 1.0) -> list[tuple[str, float]]:
    """Split an (escaped) prompt into `(text, weight)` runs using ComfyUI's rules.

    `(x)` multiplies the enclosing weight by 1.1; `(x:w)` replaces it with `w` when the text after the group's
    last `:` parses as a float (a `:` at the start does not count), otherwise the `:` stays in the text.
    """
    runs: list[tuple[str, float]] = []
    for piece in _split_top_level_groups(text):
        if len(piece) >= 2 and piece[0] == "(" and piece[-1] == ")":
            inner = piece[1:-1]
            group_weight = weight * 1.1
            colon = inner.rfind(":")
            if colon > 0:
                try:
                    group_weight = float(inner[colon + 1 :])
                    inner = inner[:colon]
                except ValueError:
                    pass
            runs.extend(parse_prompt_weights(inner, group_weight))
        else:
            runs.append((piece, weight))
    return runs


# --- textual inversion embeddings ------------------------------------------------------------------------


def _find_embedding_file(name: str, directories: Sequence[str]) -> str | None:
    """The first `name`, `name.safetensors`, `name.pt` or `name.bin` inside one of `directories`.

    Names that would lead outside the folder (`../x`, absolute paths, an empty name) find nothing.
    """
    for directory in directories:
        directory = os.path.abspath(directory)
        path = os.path.abspath(os.path.join(directory, name))
        for candidate in (path, *(path + extension for extension in EMBEDDING_EXTENSIONS)):
            try:
                inside = os.path.commonpath((directory, candidate)) == directory and candidate != directory
            except ValueError:
                inside = False
            if inside and os.path.isfile(candidate):
                return candidate
    return None


def _concat_bundle(data: dict[str, Any], prefix: str, suffix: str) -> torch.Tensor | None:
    """Concatenate the tensors of a LoRA-bundled embedding (`bundle_emb.<name>.<...>`)."""
    parts = [value for key, value in data.items() if key.startswith(prefix) and key.endswith(suffix)]
    return torch.cat(parts, dim=0) if parts else None


def _embedding_vectors(data: Any, name: str, width: int, key: str | None) -> torch.Tensor | None:
    """Pick the embedding tensor out of the layouts found in the wild."""
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, list):  # a list of {name: tensor} dicts; keep the tensors as wide as the encoder
        rows = [tensor.reshape(-1, tensor.shape[-1]) for item in data for tensor in item.values()
                if tensor.shape[-1] == width]
        return torch.cat(rows, dim=0) if rows else None
    if not isinstance(data, dict) or not data:
        return None
    if "string_to_param" in data:  # A1111 textual inversion .pt
        return next(iter(data["string_to_param"].values()))
    if key is not None and key in data:  # SDXL-style {"clip_l": ..., "clip_g": ...}
        return data[key]
    bundled = _concat_bundle(data, "bundle_emb.", ".string_to_param.*")
    if bundled is None and key is not None:
        bundled = _concat_bundle(data, f"bundle_emb.{name}.", f".{key}")
    if bundled is not None:
        return bundled
    return next(iter(data.values()))


def load_embed(embedding_name: str, embedding_directory: str | Sequence[str] | None, embedding_size: int,
               embed_key: str | None = None) -> torch.Tensor | None:
    """Load textual-inversion vectors `[n, width]` for `embedding_name`, or None if missing or unreadable.

    Looks in each embeddings folder for the name as given, then with `.safetensors`, `.pt`, `.bin`.
    `.pt`/`.bin` files are read with `torch.load(weights_only=True)`.
    """
    if embedding_directory is None:
        return None
    directories = [embedding_directory] if isinstance(embedding_directory, str) else list(embedding_directory)
    path = _find_embedding_file(embedding_name, directories)
    if path is None:
        return None
    try:
        if path.lower().endswith(".safetensors"):
            import safetensors.torch

            data = safetensors.torch.load_file(path, device="cpu")
        else:
            data = torch.load(path, weights_only=True, map_location="cpu")
        vectors = _embedding_vectors(data, embedding_name, embedding_size, embed_key)
    except Exception as error:
        logging.warning("%s\n\nerror loading embedding, skipping loading: %s", error, embedding_name)
        return None
    if vectors is None or not isinstance(vectors, torch.Tensor):
        return None
    return vectors.reshape(-1, vectors.shape[-1]) if vectors.dim() > 2 else vectors


# --- tokenizer -------------------------------------------------------------------------------------------


class SDTokenizer:
    """CLIP BPE tokenizer with ComfyUI's prompt weighting, embeddings and 77-token chunking.

    `pad_with_end` pads chunks with the end token (SD1 CLIP-L); otherwise with `pad_token` (0 for OpenCLIP).
    `embedding_directory` is a folder or list of folders searched for `embedding:name`; None disables embeddings
    (the text is then tokenized literally). `embedding_size`/`embedding_key` select vectors of this encoder.
    """

    def __init__(self, tokenizer_path: str | None = None, max_length: int = 77, pad_with_end: bool = True,
                 embedding_directory: str | Sequence[str] | None = None, embedding_size: int = 768,
                 embedding_key: str = "clip_l", tokenizer_class: Any = None, has_start_token: bool = True,
                 has_end_token: bool = True, pad_to_max_length: bool = True, min_length: int | None = None,
                 pad_token: int | None = None, end_token: int | None = None, min_padding: int | None = None,
                 tokenizer_data: dict | None = None, tokenizer_args: dict | None = None):
        self.tokenizer = clip_tokenizer()
        self.max_length = max_length
        self.min_length = min_length
        self.min_padding = min_padding
        self.end_token_default = end_token
        empty = self.tokenizer("")["input_ids"]
        self.tokenizer_adds_end_token = has_end_token
        self.start_token = empty[0] if has_start_token else None
        self.tokens_start = 1 if has_start_token else 0
        if end_token is not None:
            self.end_token = end_token
        elif has_end_token:
            self.end_token = empty[self.tokens_start]
        else:
            self.end_token = None
        self.pad_with_end = pad_with_end
        if pad_token is not None:
            self.pad_token = pad_token
        elif pad_with_end:
            self.pad_token = self.end_token
        else:
            self.pad_token = 0
        self.pad_to_max_length = pad_to_max_length
        self.max_word_length = 8
        self.embedding_identifier = "embedding:"
        self.embedding_directory = embedding_directory
        self.embedding_size = embedding_size
        self.embedding_key = embedding_key
        self.inv_vocab = {index: token for token, index in self.tokenizer.get_vocab().items()}

    def _try_get_embedding(self, embedding_name: str) -> tuple[torch.Tensor | None, str]:
        """Load the embedding named by the first word; return it (or None) and the text left after the name.

        A name with trailing commas that is not found is retried without them, and the commas go back in
        front of the leftover text.
        """
        words = embedding_name.split()
        name = words[0] if words else ""
        leftover = " ".join(words[1:])
        embedding = load_embed(name, self.embedding_directory, self.embedding_size, self.embedding_key)
        if embedding is None:
            stripped = name.strip(",")
            if len(stripped) < len(name):
                embedding = load_embed(stripped, self.embedding_directory, self.embedding_size, self.embedding_key)
                return embedding, f"{name[len(stripped):]} {leftover}"
        return embedding, leftover

    def _token_groups(self, text: str) -> list[list[tuple[Token, float]]]:
        """Tokenize each weighted run (split further at `embedding:` markers) into a group of (token, weight)."""
        groups: list[list[tuple[Token, float]]] = []
        identifier = self.embedding_identifier
        for segment, weight in parse_prompt_weights(escape_important(text), 1.0):
            segment = unescape_important(segment)
            # An embedding starts the segment or follows a space or a newline.
            parts = segment.replace("\n" + identifier, " " + identifier).split(" " + identifier)
            words = [parts[0]] + [identifier + part for part in parts[1:]]
            for word in (w for w in words if w != ""):
                if word.startswith(identifier) and self.embedding_directory is not None:
                    name = word[len(identifier):].strip("\n")
                    embedding, leftover = self._try_get_embedding(name)
                    if embedding is None:
                        logging.warning("warning, embedding:%s does not exist, ignoring", name)
                    elif embedding.dim() == 1:
                        groups.append([(embedding, weight)])
                    else:
                        groups.append([(vector, weight) for vector in embedding])
                    if leftover == "":
                        continue
                    word = leftover
                ids = self.tokenizer(word)["input_ids"]
                ids = ids[self.tokens_start:-1] if self.tokenizer_adds_end_token else ids[self.tokens_start:]
                groups.append([(token, weight) for token in ids])
        return groups

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False, tokenizer_options: dict | None = None,
                              **kwargs: Any) -> list[list[tuple]]:
        """Tokenize a prompt into chunks of `max_length` (77) entries.

        Returns a list of chunks; each chunk is a list of `(token, weight)` or, with `return_word_ids`,
        `(token, weight, word_id)` where `word_id` is the 1-based group index (0 for start/end/pad).
        Each chunk is start + up to 75 tokens + end, padded. A group that does not fit is moved whole to the
        next chunk if it has fewer than 8 tokens, otherwise split at the boundary.
        """
        options = tokenizer_options or {}
        min_length = options.get(f"{self.embedding_key}_min_length", self.min_length)
        min_padding = options.get(f"{self.embedding_key}_min_padding", self.min_padding)
        end_slots = 1 if self.end_token is not None else 0

        chunks: list[list[tuple]] = []

        def new_chunk() -> list[tuple]:
            chunk = [] if self.start_token is None else [(self.start_token, 1.0, 0)]
            chunks.append(chunk)
            return chunk

        chunk = new_chunk()
        for word_id, group in enumerate(self._token_groups(text), start=1):
            splittable = len(group) >= self.max_word_length
            remaining = group
            while remaining:
                room = self.max_length - end_slots - len(chunk)
                if len(remaining) <= room:
                    chunk.extend((token, weight, word_id) for token, weight in remaining)
                    break
                if splittable:
                    chunk.extend((token, weight, word_id) for token, weight in remaining[:room])
                    remaining = remaining[room:]
                    if self.end_token is not None:
                        chunk.append((self.end_token, 1.0, 0))
                else:
                    if self.end_token is not None:
                        chunk.append((self.end_token, 1.0, 0))
                    if self.pad_to_max_length:
                        chunk.extend([(self.pad_token, 1.0, 0)] * room)
                chunk = new_chunk()

        if self.end_token is not None:
            chunk.append((self.end_token, 1.0, 0))
        if min_padding is not None:
            chunk.extend([(self.pad_token, 1.0, 0)] * min_padding)
        if self.pad_to_max_length and len(chunk) < self.max_length:
            chunk.extend([(self.pad_token, 1.0, 0)] * (self.max_length - len(chunk)))
        if min_length is not None and len(chunk) < min_length:
            chunk.extend([(self.pad_token, 1.0, 0)] * (min_length - len(chunk)))

        if not return_word_ids:
            return [[(token, weight) for token, weight, _ in c] for c in chunks]
        return chunks

    def untokenize(self, token_weight_pair: list[tuple]) -> list[tuple[tuple, str]]:
        """Pair each `(token, weight, ...)` with its BPE string (embedding vectors map to None)."""
        return [(pair, self.inv_vocab.get(pair[0]) if isinstance(pair[0], int) else None)
                for pair in token_weight_pair]

    def state_dict(self) -> dict:
        return {}


class SD1Tokenizer:
    """Named wrapper: `tokenize_with_weights(text)` → `{clip_name: chunks}` (`{"l": ...}` for SD1)."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None,
                 clip_name: str = "l", tokenizer: type = SDTokenizer, name: str | None = None):
        self.clip_name = name if name is not None else clip_name
        # ComfyUI's attribute naming: `name` is used as it is (`umt5xxl`), `clip_name` gets a `clip_` prefix.
        self.clip = name if name is not None else f"clip_{self.clip_name}"
        setattr(self, self.clip, tokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data))

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        return {self.clip_name: getattr(self, self.clip).tokenize_with_weights(text, return_word_ids, **kwargs)}

    def untokenize(self, token_weight_pair: list[tuple]) -> list:
        return getattr(self, self.clip).untokenize(token_weight_pair)

    def state_dict(self) -> dict:
        return {}


# --- encoder ---------------------------------------------------------------------------------------------


def gen_empty_tokens(special_tokens: dict[str, int], length: int) -> list[int]:
    """The "empty prompt" chunk weights are measured against: start, end, then pad up to `length`."""
    tokens = [special_tokens[name] for name in ("start", "end") if special_tokens.get(name) is not None]
    return tokens + [special_tokens.get("pad")] * (length - len(tokens))


class ClipTokenWeightEncoder:
    """Mixin: `encode_token_weights` on top of an `encode(list_of_token_lists) -> (z, pooled)` method."""

    special_tokens: dict[str, int]

    def gen_empty_tokens(self, special_tokens: dict[str, int], length: int) -> list[int]:
        """The empty-prompt sequence weights are measured against (`gen_empty_tokens`; an encoder may differ)."""
        return gen_empty_tokens(special_tokens, length)

    def encode_token_weights(self, token_weight_pairs: list[list[tuple]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode chunks of `(token, weight)`; return `(cond [1, 77*chunks, width], pooled [1, proj] or None)`.

        All chunks (and, when a weight differs from 1, an empty-prompt chunk) run as one batch. Weighted tokens
        become `(z - z_empty) * w + z_empty`; pooled comes from the first chunk.
        """
        to_encode = [[pair[0] for pair in chunk] for chunk in token_weight_pairs]
        longest = max((len(tokens) for tokens in to_encode), default=0)
        has_weights = any(pair[1] != 1.0 for chunk in token_weight_pairs for pair in chunk)
        sections = len(to_encode)
        if has_weights or sections == 0:
            to_encode.append(self.gen_empty_tokens(self.special_tokens, longest))

        z_all, pooled = self.encode(to_encode)[:2]
        device = model_management.intermediate_device()
        first_pooled = pooled[0:1].to(device) if pooled is not None else None

        outputs = []
        for index in range(sections):
            z = z_all[index : index + 1].clone()
            if has_weights:
                z_empty = z_all[-1]
                weights = torch.tensor([pair[1] for pair in token_weight_pairs[index]], dtype=z.dtype, device=z.device)
                weighted = (z[0] - z_empty) * weights[:, None] + z_empty
                z[0] = torch.where((weights != 1.0)[:, None], weighted, z[0])
            outputs.append(z)
        if not outputs:
            return z_all[-1:].to(device), first_pooled
        return torch.cat(outputs, dim=-2).to(device), first_pooled


class SDClipModel(torch.nn.Module, ClipTokenWeightEncoder):
    """A CLIP text encoder (transformers `CLIPTextModelWithProjection`) with ComfyUI's output selection.

    `layer`: "last" (final layer norm output), "hidden" (output of encoder layer `layer_idx`, negative counts
    from the end, final layer norm applied when `layer_norm_hidden_state`) or "penultimate" (hidden, -2).
    The model is built on the meta device from `config` (a `CLIPTextConfig`, a dict, or the JSON file
    `textmodel_json_config`; default CLIP-L) and gets its weights from `load_sd`; or pass a ready `transformer`.
    Weights are held and computed in float32. Its state dict keys are `transformer.text_model.*` and
    `transformer.text_projection.weight`, ComfyUI's layout.
    """

    LAYERS = ("last", "hidden")

    def __init__(self, device: str | torch.device = "cpu", max_length: int = 77, freeze: bool = True,
                 layer: str = "last", layer_idx: int | None = None, textmodel_json_config: str | dict | None = None,
                 dtype: torch.dtype | None = None, model_class: Any = None,
                 special_tokens: dict[str, int] | None = None, layer_norm_hidden_state: bool = True,
                 enable_attention_masks: bool = False, zero_out_masked: bool = False,
                 return_projected_pooled: bool = True, return_attention_masks: bool = False,
                 model_options: dict | None = None, config: CLIPTextConfig | dict | None = None,
                 transformer: CLIPTextModelWithProjection | None = None):
        super().__init__()
        if layer == "penultimate":
            layer, layer_idx = "hidden", -2
        if layer not in self.LAYERS:
            raise ValueError(f"Unsupported CLIP output layer {layer!r}; expected one of {self.LAYERS} or 'penultimate'.")
        if layer == "hidden" and layer_idx is None:
            raise ValueError("CLIP output layer 'hidden' needs a layer_idx (e.g. -2 for the penultimate layer).")
        if enable_attention_masks or zero_out_masked or return_attention_masks:
            # SD1/SD2/SDXL encoders attend causally over the padded chunk; masks are for other families.
            raise NotImplementedError("Attention masks are not supported by this CLIP encoder.")
        if transformer is None:
            transformer = clip_configs.empty_text_model(self._resolve_config(config, textmodel_json_config))
        self.transformer = transformer
        self.num_layers = transformer.config.num_hidden_layers
        self.max_length = max_length
        self.special_tokens = dict(special_tokens or {"start": 49406, "end": 49407, "pad": 49407})
        self.layer_norm_hidden_state = layer_norm_hidden_state
        self.layer = layer
        self.layer_idx = layer_idx
        self.return_projected_pooled = return_projected_pooled
        self.options_default = (self.layer, self.layer_idx, self.return_projected_pooled)
        self.dtypes = {torch.float32}
        if freeze:
            self.freeze()

    @staticmethod
    def _resolve_config(config: CLIPTextConfig | dict | None, json_path: str | dict | None) -> CLIPTextConfig:
        if isinstance(config, CLIPTextConfig):
            return config
        if config is None and isinstance(json_path, dict):
            config = json_path
        elif config is None and json_path is not None:
            with open(json_path, encoding="utf-8") as handle:
                config = json.load(handle)
        if config is None:
            return clip_configs.clip_l_config()
        return clip_configs.text_config(**config)

    def freeze(self) -> None:
        self.transformer = self.transformer.eval()
        for param in self.parameters():
            param.requires_grad = False

    # ComfyUI's option API (CLIPSetLastLayer, unprojected pooled).
    def set_clip_options(self, options: dict[str, Any]) -> None:
        layer_idx = options.get("layer", self.layer_idx)
        self.return_projected_pooled = options.get("projected_pooled", self.return_projected_pooled)
        if layer_idx is None or abs(layer_idx) > self.num_layers:
            self.layer = "last"
        else:
            self.layer = "hidden"
            self.layer_idx = layer_idx

    def reset_clip_options(self) -> None:
        self.layer, self.layer_idx, self.return_projected_pooled = self.options_default

    def clip_layer(self, layer_idx: int | None) -> None:
        """Older ComfyUI name for `set_clip_options({"layer": layer_idx})`."""
        self.set_clip_options({"layer": layer_idx})

    def reset_clip_layer(self) -> None:
        self.reset_clip_options()

    @property
    def text_model(self) -> torch.nn.Module:
        return self.transformer.text_model

    def load_sd(self, sd: dict[str, torch.Tensor], source: str = "text encoder state dict") -> tuple[list, list]:
        """Load transformers-layout weights (`text_model.*`, optional `text_projection.weight`) as float32.

        Missing or unexpected keys raise ValueError naming `source`; a missing projection becomes the identity
        (SD1 checkpoints have none).
        """
        weights = clip_configs.complete_text_model_state_dict(clip_configs.to_transformers_layout(sd), source)
        clip_configs.assign_weights(self.transformer, weights, source)
        self.freeze()
        return [], []  # (missing, unexpected) like ComfyUI's load_sd; a mismatch has already raised

    def embed_tokens(self, tokens: list[list[Token]]) -> tuple[torch.Tensor, list[int]]:
        """Input embeddings `[batch, length, width]` (float32) for token lists, with embedding vectors in place.

        Also returns, per sequence, the count of tokens up to and including the first end token; the pooled
        output is read at that position. Vectors of the wrong width are dropped with a warning and the sequence
        is padded at the end to keep its length.
        """
        table = self.text_model.embeddings.token_embedding.weight
        end = self.special_tokens.get("end")
        stop = end if end is not None else self.special_tokens.get("pad", -1)
        sequences = []
        counts = []
        for sequence in tokens:
            ids = [int(t) for t in sequence if not isinstance(t, torch.Tensor)]
            looked_up = iter(table[torch.tensor(ids, dtype=torch.long, device=table.device)].float())
            rows = []
            count = 0
            seen_end = False
            dropped = 0
            for token in sequence:
                if isinstance(token, torch.Tensor):
                    vector = token.to(device=table.device, dtype=torch.float32).reshape(-1)
                    if vector.shape[0] != table.shape[1]:
                        logging.warning("WARNING: shape mismatch when trying to apply embedding, embedding will be "
                                        "ignored %s != %s", vector.shape[0], table.shape[1])
                        dropped += 1
                        continue
                    rows.append(vector)
                    count += 1
                    continue
                rows.append(next(looked_up))
                if not seen_end:
                    seen_end = int(token) == stop
                    # Without an end token the first pad ends the text and is not counted itself.
                    count += 0 if seen_end and end is None else 1
            if dropped:
                pad = torch.tensor([self.special_tokens["pad"]] * dropped, device=table.device)
                rows.extend(table[pad].float())
            sequences.append(torch.stack(rows))
            counts.append(count)
        return torch.stack(sequences), counts

    def forward(self, tokens: list[list[Token]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode token lists; returns `(z [batch, length, width], pooled [batch, proj])` in float32."""
        embeds, counts = self.embed_tokens(tokens)
        text_model = self.text_model
        positions = text_model.embeddings.position_embedding.weight[: embeds.shape[1]].float()
        x = embeds + positions
        length = x.shape[1]
        causal = torch.full((length, length), torch.finfo(x.dtype).min, dtype=x.dtype, device=x.device).triu_(1)
        mask = causal[None, None]

        layers = text_model.encoder.layers
        keep = None
        if self.layer == "hidden":
            keep = self.layer_idx if self.layer_idx >= 0 else len(layers) + self.layer_idx
        hidden = None
        for index, layer in enumerate(layers):
            x = layer(x, mask)
            if index == keep:
                hidden = x
        x = text_model.final_layer_norm(x)
        if hidden is not None and self.layer_norm_hidden_state:
            hidden = text_model.final_layer_norm(hidden)

        z = x if self.layer == "last" or hidden is None else hidden
        pooled = x[torch.arange(x.shape[0], device=x.device), torch.tensor(counts, device=x.device) - 1]
        if self.return_projected_pooled:
            pooled = self.transformer.text_projection(pooled)
        return z.float(), pooled.float()

    def encode(self, tokens: list[list[Token]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        with torch.inference_mode():
            return self(tokens)


class SD1ClipModel(torch.nn.Module):
    """Named wrapper around one encoder: `encode_token_weights({"l": chunks})` → `(cond, pooled)`.

    Extra keyword arguments (e.g. `config=`, `transformer=`) go to `clip_model`.
    """

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, clip_name: str = "l", clip_model: type = SDClipModel,
                 name: str | None = None, **kwargs: Any):
        super().__init__()
        self.clip_name = name if name is not None else clip_name
        # ComfyUI's attribute naming: `name` is used as it is (`umt5xxl`), `clip_name` gets a `clip_` prefix.
        self.clip = name if name is not None else f"clip_{self.clip_name}"
        setattr(self, self.clip, clip_model(device=device, dtype=dtype, model_options=model_options, **kwargs))
        self.dtypes = {torch.float32}

    @property
    def encoder(self) -> SDClipModel:
        return getattr(self, self.clip)

    def set_clip_options(self, options: dict[str, Any]) -> None:
        self.encoder.set_clip_options(options)

    def reset_clip_options(self) -> None:
        self.encoder.reset_clip_options()

    def clip_layer(self, layer_idx: int | None) -> None:
        self.encoder.clip_layer(layer_idx)

    def reset_clip_layer(self) -> None:
        self.encoder.reset_clip_layer()

    def encode_token_weights(self, token_weight_pairs: dict[str, list]) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.encoder.encode_token_weights(token_weight_pairs[self.clip_name])

    def load_sd(self, sd: dict[str, torch.Tensor], source: str = "text encoder state dict") -> Any:
        return self.encoder.load_sd(sd, source)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's SD1 text-encoder code is organised without these helpers"

SD1CheckpointClipModel = unsupported_class(__name__, 'SD1CheckpointClipModel', 'device=, dtype=, model_options=', _REASON)
bundled_embed = unsupported_function(__name__, 'bundled_embed', 'embed, prefix, suffix', _REASON)
expand_directory_list = unsupported_function(__name__, 'expand_directory_list', 'directories', _REASON)
parse_parentheses = unsupported_function(__name__, 'parse_parentheses', 'string', _REASON)
safe_load_embed_zip = unsupported_function(__name__, 'safe_load_embed_zip', 'embed_path', _REASON)
token_weights = unsupported_function(__name__, 'token_weights', 'string, current_weight', _REASON)
