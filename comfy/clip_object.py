"""ComfyUI's `CLIP` object (re-exported as `comfy.sd.CLIP`) and the loaders that build it from weights.

A `CLIP` pairs a tokenizer with a text-encoder wrapper (`SD1ClipModel`, `SD2ClipModel`, `SDXLClipModel`,
`SDXLRefinerClipModel`, `FluxClipModel`, `SD3ClipModel`): `tokenize(text)` → `{name: chunks}`,
`encode_from_tokens(tokens, return_pooled)` → cond `[1, tokens, width]` (and pooled), `clip_layer(-2)` for
CLIPSetLastLayer, `clone()` per graph branch.

Loaders:
- `clip_from_checkpoint(sd)` — the text encoders inside an SD1/SD2/SDXL/refiner/SD3/Flux single-file checkpoint;
- `clip_from_text_encoder_state_dicts([sd, ...], clip_type)` — CLIPLoader / DualCLIPLoader / TripleCLIPLoader
  files (CLIP-L, CLIP-H, CLIP-G, T5-XXL; UMT5-XXL with type `wan`, its tokenizer from the file's `spiece_model`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

import comfy.hooked_weights
import comfy.hooks
from comfy import families, model_management, sd1_clip, sd2_clip, sdxl_clip
from comfy.text_encoders import chroma_t5, clip_configs, flux_clip, sd3_clip, t5, umt5

FLOW_CLIP_TYPES = ("flux", "sd3")
WAN_CLIP_TYPE = "wan"
CHROMA_CLIP_TYPE = "chroma"
# The logit scale ComfyUI's text-encoder wrapper holds (unused for encoding), which its CLIPSave files carry.
COMFY_LOGIT_SCALE = 4.6055
CLIP_LOADER_TYPES = tuple(families.built_clip_types())
"""The `type` values of CLIPLoader / DualCLIPLoader that Kiln builds (those some family description claims)."""


@dataclass
class ClipTarget:
    """What to build: a tokenizer class, a text-encoder wrapper class and the keyword arguments for the latter."""

    tokenizer: type
    clip: type
    params: dict[str, Any] = field(default_factory=dict)
    tokenizer_data: dict[str, Any] = field(default_factory=dict)


def default_embedding_directories() -> list[str]:
    """The `embeddings` model folders (folder_paths), where `embedding:name` textual inversions are looked up."""
    import folder_paths

    try:
        return folder_paths.get_folder_paths("embeddings")
    except KeyError:
        return []


class CLIP:
    """A tokenizer plus a text encoder, as ComfyUI nodes receive it (the `CLIP` type)."""

    def __init__(self, target: ClipTarget | None = None, embedding_directory: str | Sequence[str] | None = None,
                 no_init: bool = False, tokenizer_data: dict | None = None, parameters: int = 0,
                 model_options: dict | None = None, state_dict: Sequence[Mapping[str, torch.Tensor]] = ()):
        if no_init:
            return
        if target is None:
            raise ValueError("CLIP needs a ClipTarget (tokenizer and text-encoder classes) unless no_init=True.")
        self.cond_stage_model = target.clip(**target.params)
        self.tokenizer = target.tokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)
        for weights in state_dict:
            self.cond_stage_model.load_sd(weights)
        self.patcher = _make_patcher(self.cond_stage_model)
        self.layer_idx: int | None = None
        self.use_clip_schedule = False
        self.apply_hooks_to_conds = None  # hooks (SetClipHooks) added to every conditioning this CLIP encodes
        self.tokenizer_options: dict[str, Any] = {}

    def clone(self) -> CLIP:
        """A CLIP sharing the encoder and tokenizer, with its own layer setting and (cloned) patcher."""
        cloned = CLIP(no_init=True)
        cloned.cond_stage_model = self.cond_stage_model
        cloned.tokenizer = self.tokenizer
        cloned.patcher = self.patcher.clone() if self.patcher is not None else None
        cloned.layer_idx = self.layer_idx
        cloned.use_clip_schedule = self.use_clip_schedule
        cloned.apply_hooks_to_conds = self.apply_hooks_to_conds
        cloned.tokenizer_options = dict(self.tokenizer_options)
        return cloned

    def add_patches(self, patches: dict[str, Any], strength_patch: float = 1.0, strength_model: float = 1.0) -> Any:
        return self.patcher.add_patches(patches, strength_patch, strength_model)

    def clip_layer(self, layer_idx: int | None) -> None:
        """Output layer for later encodes: -1 last, -2 penultimate, ... (CLIPSetLastLayer)."""
        self.layer_idx = layer_idx

    def set_tokenizer_option(self, option_name: str, value: Any) -> None:
        self.tokenizer_options[option_name] = value

    def tokenize(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        """`{encoder name: [chunk, ...]}`, each chunk 77 `(token, weight)` pairs."""
        options = dict(self.tokenizer_options)
        options.update(kwargs.pop("tokenizer_options", {}))
        if options:
            kwargs["tokenizer_options"] = options
        return self.tokenizer.tokenize_with_weights(text, return_word_ids, **kwargs)

    def load_model(self) -> Any:
        if self.patcher is not None:
            model_management.load_model_gpu(self.patcher)
        return self.patcher

    def encode_from_tokens(self, tokens: dict[str, list], return_pooled: bool | str = False,
                           return_dict: bool = False) -> Any:
        """Encode tokens: cond `[1, 77*chunks, width]`; with `return_pooled` also pooled `[1, proj]`
        (`"unprojected"` skips the text projection); with `return_dict` `{"cond": ..., "pooled_output": ...}`."""
        self._prepare(return_pooled == "unprojected")
        hooks = self._forced_hooks()
        if hooks is None:
            cond, pooled = self.cond_stage_model.encode_token_weights(tokens)[:2]
        else:
            with comfy.hooked_weights.clip_hooks_applied(self, hooks):
                cond, pooled = self.cond_stage_model.encode_token_weights(tokens)[:2]
        if return_dict:
            return self.add_hooks_to_dict({"cond": cond, "pooled_output": pooled})
        if return_pooled:
            return cond, pooled
        return cond

    def _prepare(self, unprojected_pooled: bool) -> None:
        """Set the encoder's options (output layer, pooled projection) and load it with its patches."""
        model = self.cond_stage_model
        model.reset_clip_options()
        if self.layer_idx is not None:
            model.set_clip_options({"layer": self.layer_idx})
        if unprojected_pooled:
            model.set_clip_options({"projected_pooled": False})
        self.load_model()

    def _forced_hooks(self) -> Any:
        return getattr(self.patcher, "forced_hooks", None) if self.patcher is not None else None

    def add_hooks_to_dict(self, pooled_dict: dict) -> dict:
        """`pooled_dict` with this CLIP's `apply_hooks_to_conds` under "hooks" (when it has some)."""
        if self.apply_hooks_to_conds:
            pooled_dict["hooks"] = self.apply_hooks_to_conds
        return pooled_dict

    def encode_from_tokens_scheduled(self, tokens: dict[str, list], unprojected_pooled: bool = False,
                                     add_dict: dict | None = None, show_pbar: bool = True) -> list[list]:
        """The CONDITIONING CLIPTextEncode returns: `[[cond, {"pooled_output": pooled, **add_dict}]]`. A CLIP
        whose hooks are scheduled (SetClipHooks with schedule_clip) gives one entry per span of the run over which
        its hooks' keyframe strengths stay the same, each encoded at those strengths and active over its span only
        ("clip_start_percent" / "clip_end_percent"); spans outside add_dict's start/end_percent are left out."""
        add_dict = add_dict or {}
        hooks = self._forced_hooks()
        if hooks is None or not self.use_clip_schedule:
            output = self.encode_from_tokens(tokens, return_pooled="unprojected" if unprojected_pooled else True,
                                             return_dict=True)
            cond = output.pop("cond")
            output.update(add_dict)
            return [[cond, output]]
        self._prepare(unprojected_pooled)
        hooks.reset()
        entries = []
        with comfy.hooked_weights.clip_hooks_applied(self, comfy.hooks.HookGroup()) as weights:
            for (start, end), keyframes in hooks.get_hooks_for_clip_schedule():
                if end < add_dict.get("start_percent", end) or start > add_dict.get("end_percent", start):
                    continue
                for hook, keyframe in keyframes:
                    hook.hook_keyframe._current_keyframe = keyframe
                weights.apply(hooks)
                cond, pooled = self.cond_stage_model.encode_token_weights(tokens)[:2]
                options = {"pooled_output": pooled, "clip_start_percent": start, "clip_end_percent": end}
                options.update(add_dict)
                entries.append([cond, self.add_hooks_to_dict(options)])
                model_management.throw_exception_if_processing_interrupted()
        hooks.reset()
        return entries

    def encode(self, text: str) -> torch.Tensor:
        return self.encode_from_tokens(self.tokenize(text))

    def load_sd(self, sd: Mapping[str, torch.Tensor], full_model: bool = False) -> Any:
        if full_model:  # keys as get_sd() gives them; the encoders may still be empty (meta), hence assign
            sd = dict(sd)
            t5_prefixes = []
            for name, encoder in self.cond_stage_model.named_children():
                if isinstance(encoder, (t5.T5XXLModel, umt5.UMT5XXLModel)):  # kept in its stored dtype
                    prefix = f"{name}.transformer."
                    part = {key[len(prefix):]: sd.pop(key) for key in list(sd) if key.startswith(prefix)}
                    if part:
                        encoder.load_sd(part, f"CLIP state dict ({name})")
                        t5_prefixes.append(prefix)
            weights = {key: value.to(torch.float32) if value.is_floating_point() else value for key, value in sd.items()}
            result = self.cond_stage_model.load_state_dict(weights, strict=False, assign=True)
            result.missing_keys[:] = [key for key in result.missing_keys if not key.startswith(tuple(t5_prefixes))]
            return result
        return self.cond_stage_model.load_sd(sd)

    def get_sd(self) -> dict[str, torch.Tensor]:
        return self.cond_stage_model.state_dict()

    def saved_state_dict(self) -> dict[str, torch.Tensor]:
        """`get_sd()` in the dtype ComfyUI holds and saves text-encoder weights in (float16 unless a flag asks for
        another): Kiln computes in float32, with the same values for a float16 file. fp8 weights stay as they
        are."""
        rounding = self.patcher.weight_rounding_dtype if self.patcher is not None else None
        state = self.get_sd()
        if rounding is None:
            return state
        return {key: value.to(rounding) if value.dtype == torch.float32 else value for key, value in state.items()}

    def saved_text_encoders(self) -> dict[str, dict[str, torch.Tensor]]:
        """Each text encoder's weights as ComfyUI's CLIPSave writes them, by encoder name (`clip_l`, `clip_g`,
        `t5xxl`, ...): transformers' names without the `<name>.transformer.` prefix, ComfyUI's saved dtype
        (`saved_state_dict`), no position ids, and the `logit_scale` ComfyUI's text-encoder wrapper carries."""
        encoders: dict[str, dict[str, torch.Tensor]] = {}
        for key, value in self.saved_state_dict().items():
            encoder, _, name = key.partition(".")
            if name.endswith("position_ids"):
                continue
            encoders.setdefault(encoder, {})[name.removeprefix("transformer.")] = value
        for state in encoders.values():
            state.setdefault("logit_scale", torch.tensor(COMFY_LOGIT_SCALE))
        return encoders

    def get_key_patches(self) -> dict[str, Any]:
        return self.patcher.get_key_patches() if self.patcher is not None else {}


def _make_patcher(model: torch.nn.Module) -> Any:
    try:
        from comfy.model_patcher import ModelPatcher
    except ImportError:
        return None
    patcher = ModelPatcher(model, load_device=model_management.text_encoder_device(),
                           offload_device=model_management.text_encoder_offload_device())
    patcher.weight_rounding_dtype = model_management.text_encoder_weight_dtype()
    return patcher


# --- building from weights -------------------------------------------------------------------------------


def _config(weights: Mapping[str, torch.Tensor], kind: str) -> Any:
    return clip_configs.text_config_from_state_dict(clip_configs.complete_text_model_state_dict(weights), kind)


def _describe(encoders: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    return ", ".join(f"{kind} ({sources[kind]})" if kind in sources else kind for kind in sorted(encoders)) or "nothing"


def _flow_target(encoders: Mapping[str, Mapping[str, torch.Tensor]], clip_type: str,
                 sources: Mapping[str, str]) -> ClipTarget:
    kinds = set(encoders)
    t5_config = (t5.t5_config_from_state_dict(encoders["t5xxl"], sources.get("t5xxl", "T5-XXL"))
                 if "t5xxl" in kinds else None)
    l_config = _config(encoders["clip_l"], "clip_l") if "clip_l" in kinds else None
    if clip_type == "flux":
        if kinds != {"clip_l", "t5xxl"}:
            raise clip_configs.TextEncoderLoadError(
                f"CLIP type 'flux' needs one CLIP-L and one T5-XXL text encoder; got {_describe(encoders, sources)}.")
        return ClipTarget(flux_clip.FluxTokenizer, flux_clip.FluxClipModel,
                          {"l_config": l_config, "t5_config": t5_config})
    unknown = kinds - {"clip_l", "clip_g", "t5xxl"}
    if not kinds or unknown:
        raise clip_configs.TextEncoderLoadError(
            f"CLIP type 'sd3' takes CLIP-L, CLIP-G and T5-XXL text encoders; got {_describe(encoders, sources)}.")
    g_config = _config(encoders["clip_g"], "clip_g") if "clip_g" in kinds else None
    return ClipTarget(sd3_clip.SD3Tokenizer, sd3_clip.SD3ClipModel,
                      {"l_config": l_config, "g_config": g_config, "t5_config": t5_config})


def _wan_target(encoders: Mapping[str, Mapping[str, torch.Tensor]], clip_type: str | None,
                sources: Mapping[str, str], source: str) -> ClipTarget:
    """Wan's CLIP: one UMT5-XXL, its sizes from the shapes and its tokenizer from the file's `spiece_model`."""
    if clip_type != WAN_CLIP_TYPE:
        raise clip_configs.TextEncoderLoadError(
            f"{sources.get('umt5xxl', source)} is a UMT5-XXL text encoder (Wan's), but CLIP type "
            f"'{clip_type or 'stable_diffusion'}' does not take it; load it with CLIPLoader type wan.")
    if set(encoders) != {"umt5xxl"}:
        raise clip_configs.TextEncoderLoadError(
            f"CLIP type 'wan' takes one UMT5-XXL text encoder; got {_describe(encoders, sources)}.")
    weights = encoders["umt5xxl"]
    name = sources.get("umt5xxl", source)
    return ClipTarget(umt5.WanT5Tokenizer, umt5.WanT5Model, {"config": umt5.umt5_config_from_state_dict(weights, name)},
                      tokenizer_data=umt5.tokenizer_data_of(weights, name))


def clip_target_for(encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str = "checkpoint",
                    clip_type: str | None = None, sources: Mapping[str, str] | None = None) -> ClipTarget:
    """The tokenizer/encoder classes for a set of text encoders (`{"clip_l": sd, "clip_g": sd, "t5xxl": sd}`,
    CLIPs in transformers layout, T5 bare), with configs read from the weights' shapes.

    clip_type "flux": clip_l + t5xxl; "sd3": any of clip_l, clip_g, t5xxl; "wan": umt5xxl; "chroma": t5xxl.
    Otherwise: clip_l → SD1;
    clip_h → SD2; clip_l + clip_g → SDXL; clip_g alone → SDXL refiner. `sources` names each encoder's file
    for the errors.
    """
    sources = dict(sources or {})
    kinds = set(encoders)
    if clip_type == WAN_CLIP_TYPE or "umt5xxl" in kinds:
        return _wan_target(encoders, clip_type, sources, source)
    if clip_type in FLOW_CLIP_TYPES:
        return _flow_target(encoders, clip_type, sources)
    if clip_type == CHROMA_CLIP_TYPE:
        if kinds != {"t5xxl"}:
            raise clip_configs.TextEncoderLoadError(
                f"CLIP type 'chroma' takes one T5-XXL text encoder; got {_describe(encoders, sources)}.")
        config = t5.t5_config_from_state_dict(encoders["t5xxl"], sources.get("t5xxl", "T5-XXL"))
        return ClipTarget(chroma_t5.ChromaTokenizer, chroma_t5.ChromaClipModel, {"config": config})
    if "t5xxl" in kinds:
        raise clip_configs.TextEncoderLoadError(
            f"{sources.get('t5xxl', source)} is a T5-XXL text encoder, but CLIP type "
            f"'{clip_type or 'stable_diffusion'}' takes CLIP text encoders only (CLIP-L, CLIP-H, CLIP-G: "
            "'text_model.embeddings.token_embedding.weight' [49408, width]). T5-XXL goes with DualCLIPLoader type "
            "flux or sd3, TripleCLIPLoader or CLIPLoader type sd3.")
    if kinds == {"clip_l"}:
        return ClipTarget(sd1_clip.SD1Tokenizer, sd1_clip.SD1ClipModel,
                          {"config": _config(encoders["clip_l"], "clip_l")})
    if kinds == {"clip_h"}:
        return ClipTarget(sd2_clip.SD2Tokenizer, sd2_clip.SD2ClipModel,
                          {"config": _config(encoders["clip_h"], "clip_h")})
    if kinds == {"clip_l", "clip_g"}:
        return ClipTarget(sdxl_clip.SDXLTokenizer, sdxl_clip.SDXLClipModel,
                          {"l_config": _config(encoders["clip_l"], "clip_l"),
                           "g_config": _config(encoders["clip_g"], "clip_g")})
    if kinds == {"clip_g"}:
        return ClipTarget(sdxl_clip.SDXLRefinerTokenizer, sdxl_clip.SDXLRefinerClipModel,
                          {"config": _config(encoders["clip_g"], "clip_g")})
    raise clip_configs.TextEncoderLoadError(
        f"{source}: no supported text-encoder combination in {_describe(encoders, sources)} "
        "(supported: clip_l, clip_h, clip_l + clip_g, clip_g; with type flux: clip_l + t5xxl; with type sd3: "
        "any of clip_l, clip_g, t5xxl).")


def _load_encoders(clip: CLIP, encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str,
                   sources: Mapping[str, str] | None = None) -> None:
    sources = sources or {}
    for kind, weights in encoders.items():
        # Every wrapper names its encoders after their kind: clip_l, clip_h, clip_g, t5xxl.
        getattr(clip.cond_stage_model, kind).load_sd(weights, sources.get(kind, f"{source} ({kind})"))


def load_text_encoder(state_dict: Mapping[str, torch.Tensor], kind: str | None = None,
                      source: str = "text encoder state dict") -> sd1_clip.SDClipModel:
    """One loaded encoder, configured as its family uses it, from a bare or prefixed state dict.

    kind "clip_l" → `SDClipModel` (SD1: last layer, pads with end); "clip_h" → `SD2ClipHModel` (penultimate,
    normed, pads with 0); "clip_g" → `SDXLClipG` (penultimate, un-normed, pads with 0, projected pooled).
    Without `kind`, it follows from the width (768 / 1024 / 1280) or the checkpoint prefix.
    """
    encoders = clip_configs.checkpoint_text_encoders(state_dict)
    if len(encoders) > 1:
        raise clip_configs.TextEncoderLoadError(f"{source} holds several text encoders {sorted(encoders)}; "
                                                "use clip_from_checkpoint.")
    if encoders:
        (found_kind, weights), = encoders.items()
    else:
        weights = clip_configs.to_transformers_layout(state_dict)
        embedding = weights.get("text_model.embeddings.token_embedding.weight")
        if embedding is None:
            raise clip_configs.TextEncoderLoadError(
                f"{source} is not a CLIP text encoder: no token embedding among keys {list(state_dict)[:5]}")
        found_kind = kind or clip_configs.detect_kind_from_width(embedding.shape[1])
    kind = kind or found_kind
    encoder_class = {"clip_l": sd1_clip.SDClipModel, "clip_h": sd2_clip.SD2ClipHModel,
                     "clip_g": sdxl_clip.SDXLClipG}[kind]
    encoder = encoder_class(config=_config(weights, kind))
    encoder.load_sd(weights, source)
    return encoder


def clip_from_text_encoders(encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str = "checkpoint",
                            embedding_directory: str | Sequence[str] | None = None, clip_type: str | None = None,
                            sources: Mapping[str, str] | None = None) -> CLIP:
    """A loaded `CLIP` from `{"clip_l"|"clip_h"|"clip_g": transformers-layout weights, "t5xxl": bare T5 weights}`.

    `clip_type` "flux" / "sd3" picks those families' encoders (see `clip_target_for`); `sources` names each
    encoder's file in errors. `embedding_directory` None means folder_paths' `embeddings` folders (as ComfyUI's
    loader nodes pass them).
    """
    if embedding_directory is None:
        embedding_directory = default_embedding_directories()
    target = clip_target_for(encoders, source, clip_type, sources)
    clip = CLIP(target, embedding_directory=embedding_directory, tokenizer_data=target.tokenizer_data)
    _load_encoders(clip, encoders, source, sources)
    return clip


def _checkpoint_umt5(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    """The UMT5 part at a family's prefix (`comfy.families.text_encoder_locations`), prefix removed, with the
    tokenizer's `spiece_model` wherever the file keeps it; None when there is none."""
    for prefix, _, layout in families.text_encoder_locations():
        if layout != "umt5":
            continue
        part = {key[len(prefix):]: value for key, value in sd.items() if key.startswith(prefix)}
        if part:
            tokenizer_keys = [key for key in sd if key.rpartition(".")[2] == umt5.TOKENIZER_KEY]
            if umt5.TOKENIZER_KEY not in part and tokenizer_keys:
                part[umt5.TOKENIZER_KEY] = sd[tokenizer_keys[0]]
            return part
    return None


def _checkpoint_encoders(sd: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    encoders = clip_configs.checkpoint_text_encoders(sd)
    t5_weights = t5.checkpoint_t5(sd)
    if t5_weights is not None:
        encoders["t5xxl"] = t5_weights
    umt5_weights = _checkpoint_umt5(sd)
    if umt5_weights is not None:
        encoders["umt5xxl"] = umt5_weights
    return encoders


def clip_from_checkpoint(sd: Mapping[str, torch.Tensor], source: str = "checkpoint",
                         embedding_directory: str | Sequence[str] | None = None) -> CLIP | None:
    """The `CLIP` of a single-file checkpoint, or None if it holds no text encoder.

    SD1/SD2/SDXL/refiner by their LDM/SGM prefixes; SD3 and Flux by ComfyUI's own text-encoder prefixes
    (`comfy.families.comfy_text_encoder_prefix`: CLIP-L + T5-XXL alone is Flux, anything else there SD3, T5
    optional).
    Raises `TextEncoderLoadError` naming `source` and the offending keys when the weights do not fit.
    `embedding_directory` None means folder_paths' `embeddings` folders.
    """
    encoders = _checkpoint_encoders(sd)
    if not encoders:
        return None
    clip_type = None
    comfy_prefixes = tuple(families.comfy_text_encoder_prefix(kind) for kind in encoders
                           if kind in families.COMFY_TEXT_ENCODER_PREFIXES)
    if "umt5xxl" in encoders:
        clip_type = WAN_CLIP_TYPE
    elif any(key.startswith(comfy_prefixes) for key in sd):
        flux = families.get("Flux")
        clip_type = flux.clip_type if set(encoders) == {part.kind for part in flux.text_encoders} else \
            families.get("SD3").clip_type
    sources = {kind: f"{source} ({kind})" for kind in encoders}
    return clip_from_text_encoders(encoders, source, embedding_directory, clip_type, sources)


def _file_encoders(weights: Mapping[str, torch.Tensor], source: str, kind: str | None,
                   clip_type: str) -> dict[str, dict[str, torch.Tensor]]:
    """The encoders in one text-encoder file: `{kind: weights}` (a checkpoint-prefixed file may hold several)."""
    found = _checkpoint_encoders(weights)
    if found:
        return found
    if clip_type == WAN_CLIP_TYPE or kind == "umt5xxl":
        problem = umt5.describe_umt5_mismatch(weights, source)
        if problem is not None:
            raise clip_configs.TextEncoderLoadError(problem)
        return {"umt5xxl": dict(weights)}
    if kind is None and t5.is_t5_state_dict(weights) and umt5.is_umt5_state_dict(weights):
        return {"umt5xxl": dict(weights)}  # clip_target_for says which CLIP type takes it
    if kind == "t5xxl" or (kind is None and t5.is_t5_state_dict(weights)):
        return {"t5xxl": dict(weights)}
    converted = clip_configs.to_transformers_layout(weights)
    embedding = converted.get("text_model.embeddings.token_embedding.weight")
    if embedding is None:
        raise clip_configs.TextEncoderLoadError(
            f"{source} is not a text encoder: no CLIP token embedding ('text_model.embeddings.token_embedding."
            f"weight' [49408, width]) and no T5 blocks ('encoder.block.N.*') among keys {sorted(weights)[:5]}")
    if kind is None:
        fallback = "clip_l" if not clip_configs.is_open_clip_layout(weights) else (
            "clip_g" if clip_type in ("sdxl", "sd3") else "clip_h")
        kind = clip_configs.KIND_BY_WIDTH.get(embedding.shape[1], fallback)
    return {kind: converted}


def clip_from_text_encoder_state_dicts(state_dicts: Sequence[Mapping[str, torch.Tensor]],
                                       clip_type: str = "stable_diffusion", sources: Sequence[str] | None = None,
                                       embedding_directory: str | Sequence[str] | None = None,
                                       kinds: Sequence[str | None] | None = None) -> CLIP:
    """CLIPLoader / DualCLIPLoader / TripleCLIPLoader: text-encoder files (any bare or prefixed layout) → a
    loaded `CLIP`.

    `clip_type` "stable_diffusion" (one file: clip_l → SD1, clip_h → SD2, clip_g → refiner), "sdxl"
    (clip_l + clip_g), "flux" (clip_l + t5xxl), "sd3" (any of clip_l, clip_g, t5xxl) or "wan" (one umt5xxl file,
    bare or under ComfyUI's text-encoder prefix, with its `spiece_model`). A T5 file is told by
    its keys; a CLIP file's kind by its width (768 / 1024 / 1280). `kinds` names it for other widths (test
    models), else transformers-layout files count as clip_l and open_clip files as clip_g for "sdxl" / "sd3",
    clip_h otherwise.
    """
    if clip_type not in CLIP_LOADER_TYPES:
        raise NotImplementedError(f"CLIP type {clip_type!r} is not supported by the CLIP loaders yet "
                                  f"(supported: {', '.join(CLIP_LOADER_TYPES)}).")
    sources = list(sources or [f"text encoder file {index + 1}" for index in range(len(state_dicts))])
    kinds = list(kinds or [None] * len(state_dicts))
    encoders: dict[str, dict[str, torch.Tensor]] = {}
    encoder_sources: dict[str, str] = {}
    for weights, source, kind in zip(state_dicts, sources, kinds, strict=True):
        for found_kind, converted in _file_encoders(weights, source, kind, clip_type).items():
            if found_kind in encoders:
                raise clip_configs.TextEncoderLoadError(
                    f"Two {found_kind} text encoders given: {encoder_sources[found_kind]} and {source}.")
            encoders[found_kind] = converted
            encoder_sources[found_kind] = source
    return clip_from_text_encoders(encoders, ", ".join(sources), embedding_directory, clip_type, encoder_sources)
