"""Every model family Kiln loads, one description module each, and the lookups the rest of Kiln reads them by.

Loading (`comfy.sd`), detection (`comfy.model_detection`), LoRA key mapping (`comfy.lora`), export (CheckpointSave)
and the loader nodes' option lists ask this registry; nothing else knows where a family keeps its parts. Adding a
family is one new module here plus its model class and tests: see README.md in this folder.

Importing this package is cheap (torch only): the loader nodes read it at start-up. The functions that build
networks import diffusers and transformers when called.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any

from comfy.families import chroma, flux, sd1, sd2, sd3, sdxl, unet, wan
from comfy.families.base import (
    COMFY_TEXT_ENCODER_PREFIXES,
    DIFFUSION_MODEL_PREFIX,
    TEXT_ENCODER_KINDS,
    VAE_PREFIX,
    Family,
    FamilyMatch,
    ModelDetectionError,
    TextEncoderPart,
    WeightLoadError,
    comfy_text_encoder_prefix,
    first_keys,
)
from comfy.families.vae import is_vae

__all__ = [
    "FAMILIES", "Family", "FamilyMatch", "ModelDetectionError", "TextEncoderPart", "WeightLoadError",
    "clip_loader_types", "detect", "diffusion_model_prefix", "get", "text_encoder_locations", "vae_prefix_of",
]

_FAMILY_MODULES = (sd1, sd2, sdxl, sd3, flux, chroma, wan)
FAMILIES: dict[str, Family] = {family.name: family for module in _FAMILY_MODULES for family in module.FAMILIES}
"""Every family by name."""
_MODULE_OF = {family.name: module for module in _FAMILY_MODULES for family in module.FAMILIES}

# The UNet families in ComfyUI's match order (`supported_models.models`): each is tried on exact full-size values
# first, then, for reduced-size models, on structure.
_UNET_MATCHERS = (sd1.match, sd2.match, sdxl.match_refiner, sdxl.match_base)
# The transformer families, each recognised by its own marker keys.
_TRANSFORMER_MATCHERS = (sd3.match, chroma.match, flux.match, wan.match)  # Chroma has FLUX.1's markers too
_ARCHITECTURE_MODULES: dict[str, Any] = {"unet": unet, "flux": flux, "mmdit": sd3, "chroma": chroma, "wan": wan}

# The library modules the architectures build networks and convert keys with: imported by the functions that
# use them, and ahead of time by `comfy.warm_up`.
NETWORK_LIBRARY_MODULES = (
    "diffusers.loaders.single_file_utils",
    "diffusers.models.unets.unet_2d_condition",
    "diffusers.models.autoencoders.autoencoder_kl",
    "diffusers.models.transformers.transformer_flux",
    "diffusers.models.transformers.transformer_chroma",
    "diffusers.models.transformers.transformer_sd3",
    "diffusers.models.transformers.transformer_wan",
)

_library_lock = threading.Lock()


def import_network_libraries() -> None:
    """Import `NETWORK_LIBRARY_MODULES`. The loaders call it before building a network and `comfy.warm_up` calls it
    on a background thread: the lock makes a load that starts meanwhile wait for those imports, because diffusers'
    lazy modules are not safe to import from two threads at once ("cannot import name ... from 'diffusers'")."""
    with _library_lock:
        for name in NETWORK_LIBRARY_MODULES:
            importlib.import_module(name)


# Keys that mark a diffusion model, for finding its prefix: each architecture's marker, in either layout.
_DIFFUSION_MODEL_MARKERS = (unet.MARKER, flux.MARKER, flux.INPUT_KEY, sd3.MARKER, flux.DIFFUSERS_MARKER,
                            sd3.DIFFUSERS_MARKER, wan.MARKER)

# Where else text encoders turn up: ComfyUI's own state-dict names (`CLIP.get_sd()`, CLIPSave files), by kind.
_STATE_DICT_TEXT_ENCODER_PREFIXES = tuple(
    (prefix, kind) for kind in TEXT_ENCODER_KINDS
    for prefix in (f"cond_stage_model.{kind}.transformer.", f"{kind}.transformer."))
# The layout of each kind's weights under those names.
_STATE_DICT_LAYOUTS = {"t5xxl": "t5", "umt5xxl": "umt5"}

# ComfyUI's option lists of the CLIP loader nodes, in its order (the interface); families claim the ones they
# build (`Family.clip_loader_options`), the others are a clear error for now.
CLIP_LOADER_OPTIONS: dict[str, tuple[str, ...]] = {
    "CLIPLoader": ("stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos",
                   "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image"),
    "DualCLIPLoader": ("sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"),
}


def get(name: str | FamilyMatch) -> Family:
    """The family named `name` ("SD15", "SD21", "Flux", ...) or of a `FamilyMatch`."""
    key = name.name if isinstance(name, FamilyMatch) else name
    try:
        return FAMILIES[key]
    except KeyError:
        raise ValueError(f"Unknown model family {key!r}; known: {', '.join(FAMILIES)}")


def key_table_of(architecture: str, network: Any) -> Any:
    """The key table (`key_tables.KeyTable`: original key -> parameter rows) of a built network, computed once
    per network (tracing a converter takes a moment on a full-size model)."""
    table = getattr(network, "_kiln_key_table", None)
    if table is None:
        table = architecture_module(architecture).key_table(network)
        network._kiln_key_table = table
    return table


def family_module(family: Family | str) -> Any:
    """The module that describes `family`."""
    return _MODULE_OF[family.name if isinstance(family, Family) else family]


def family_of_clip(kinds: list[str] | set[str]) -> Family | None:
    """The family whose text encoders are exactly `kinds` (the first in the registry's order), else the first one
    that has them all; None when no family has them."""
    wanted = set(kinds)
    for family in FAMILIES.values():
        if {part.kind for part in family.text_encoders} == wanted:
            return family
    return next((family for family in FAMILIES.values()
                 if wanted <= {part.kind for part in family.text_encoders}), None)


def architecture_module(architecture: str) -> Any:
    """The module that builds, converts and maps the keys of an architecture's network ("unet", "flux",
    "mmdit")."""
    return _ARCHITECTURE_MODULES[architecture]


# --- where the parts are --------------------------------------------------------------------------------------


def diffusion_model_prefix(state_dict: Mapping[str, Any]) -> str:
    """The prefix in front of the diffusion model's keys: the single-file checkpoints' one, another prefix in
    front of a marker key, or "". Raises ModelDetectionError when no diffusion model is there."""
    if any(key.startswith(DIFFUSION_MODEL_PREFIX) for key in state_dict):
        return DIFFUSION_MODEL_PREFIX
    for key in state_dict:
        for marker in _DIFFUSION_MODEL_MARKERS:
            if key.endswith(marker):
                return key[: -len(marker)]
    raise ModelDetectionError(
        f"No diffusion model found: no key ends with {unet.MARKER!r} (SD UNet), {flux.MARKER!r} (FLUX.1), "
        f"{sd3.MARKER!r} (SD3) or {wan.MARKER!r} (Wan). First keys seen: {first_keys(state_dict)}"
    )


def vae_prefix_of(state_dict: Mapping[str, Any]) -> str | None:
    """Where a state dict keeps an LDM VAE (a family's checkpoint prefix, or bare ""), or None."""
    for prefix in (*dict.fromkeys(family.vae_prefix for family in FAMILIES.values()), ""):
        if is_vae(state_dict, prefix):
            return prefix
    return None


def text_encoder_locations() -> tuple[tuple[str, str, str], ...]:
    """(prefix, kind, layout) of every place a single-file checkpoint or a ComfyUI state dict keeps a text
    encoder, each once: checkpoint prefixes first, family by family, each family's in the order CLIP-L, CLIP-H,
    CLIP-G, T5-XXL."""
    found: dict[str, tuple[str, str, str]] = {}
    for family in FAMILIES.values():
        for part in sorted(family.text_encoders, key=lambda part: TEXT_ENCODER_KINDS.index(part.kind)):
            found.setdefault(part.checkpoint_prefix, (part.checkpoint_prefix, part.kind, part.layout))
    for prefix, kind in _STATE_DICT_TEXT_ENCODER_PREFIXES:
        found.setdefault(prefix, (prefix, kind, _STATE_DICT_LAYOUTS.get(kind, "comfy_clip")))
    return tuple(found.values())


def state_dict_prefix(kind: str) -> str:
    """The name ComfyUI's CLIP objects give an encoder of `kind` in their state dict (`clip_l.transformer.`)."""
    return f"{kind}.transformer."


# --- detection ---------------------------------------------------------------------------------------------------


def detect(state_dict: Mapping[str, Any], prefix: str | None = None) -> FamilyMatch:
    """The family of the diffusion model in `state_dict` (a checkpoint or a diffusion model alone), from its key
    names and shapes. Raises ModelDetectionError naming the first keys seen when it is none of them."""
    if prefix is None:
        prefix = diffusion_model_prefix(state_dict)
    for matcher in _TRANSFORMER_MATCHERS:
        found = matcher(state_dict, prefix)
        if found is not None:
            return found
    return detect_unet_family(unet.detect_unet_config(state_dict, prefix), state_dict, prefix)


def detect_unet_family(unet_config: dict[str, Any], state_dict: Mapping[str, Any], prefix: str) -> FamilyMatch:
    """The UNet family of a detected UNet config (`unet.detect_unet_config`), tried in ComfyUI's match order,
    exact full-size values first. Raises ModelDetectionError when it is none of them."""
    for exact in (True, False):
        for matcher in _UNET_MATCHERS:
            found = matcher(unet_config, state_dict, prefix, exact)
            if found is not None:
                return found
    raise ModelDetectionError(
        "The UNet is not SD1.x, SD2.x, SDXL or the SDXL refiner "
        f"(context_dim={unet_config['context_dim']}, adm_in_channels={unet_config['adm_in_channels']}, "
        f"linear proj_in={unet_config['use_linear_in_transformer']}). First keys seen: {first_keys(state_dict)}"
    )


# --- loader options ----------------------------------------------------------------------------------------------


def clip_loader_types(node: str) -> list[str]:
    """ComfyUI's `type` options of a CLIP loader node (the interface, all of them)."""
    return list(CLIP_LOADER_OPTIONS[node])


def families_built_by(node: str, option: str) -> list[Family]:
    """The families whose CLIP the loader `node` builds with `type` `option` (empty: Kiln does not build it)."""
    return [family for family in FAMILIES.values() if (node, option) in family.clip_loader_options]


def built_clip_types() -> list[str]:
    """The CLIP types (loader `type` values) some family builds, in ComfyUI's order."""
    built = {option for family in FAMILIES.values() for _, option in family.clip_loader_options if option}
    order = [option for options in CLIP_LOADER_OPTIONS.values() for option in options]
    return [option for option in dict.fromkeys(order) if option in built]


__all__ += ["detect_unet_family", "key_table_of", "CLIP_LOADER_OPTIONS", "NETWORK_LIBRARY_MODULES", "import_network_libraries", "COMFY_TEXT_ENCODER_PREFIXES", "DIFFUSION_MODEL_PREFIX", "VAE_PREFIX", "architecture_module", "built_clip_types",
            "comfy_text_encoder_prefix", "families_built_by", "state_dict_prefix"]
