"""The V3 socket types (`io.Int`, `io.Image`, `io.Combo`, `io.Custom("MY_TYPE")`, ...): each has an `Input` and
usually an `Output` description whose `as_dict()` is the options dict `/object_info` shows.

Each input renders its options in a fixed order (display_name, optional, tooltip, lazy, the extra dict, then
default, socketless, widgetType, forceInput, then the type's own keys), leaving out the ones that are None.
"""


from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from typing import Any, Literal, TypedDict, TypeVar

import torch

from comfy_api.internal import copy_class, is_class, prune_dict


def _merged(*parts: dict) -> dict:
    """Later parts update earlier ones; a key keeps the place where it first appeared (as `a | b` does)."""
    result: dict = {}
    for part in parts:
        result.update(part)
    return result


class FolderType(str, Enum):
    input = "input"
    output = "output"
    temp = "temp"


class UploadType(str, Enum):
    """The upload widget a combo gets; the value is the option key it sets to true."""

    image = "image_upload"
    audio = "audio_upload"
    video = "video_upload"
    model = "file_upload"


class RemoteOptions:
    """A combo whose options the frontend fetches from `route` (refreshed every `refresh` ms, if set)."""

    def __init__(self, route: str, refresh_button: bool, control_after_refresh: Literal["first", "last"] = "first",
                 timeout: int | None = None, max_retries: int | None = None, refresh: int | None = None):
        self.route = route
        self.refresh_button = refresh_button
        self.control_after_refresh = control_after_refresh
        self.timeout = timeout
        self.max_retries = max_retries
        self.refresh = refresh

    def as_dict(self) -> dict:
        return prune_dict({"route": self.route, "refresh_button": self.refresh_button,
                           "control_after_refresh": self.control_after_refresh, "timeout": self.timeout,
                           "max_retries": self.max_retries, "refresh": self.refresh})


class NumberDisplay(str, Enum):
    number = "number"
    slider = "slider"


class _StringIOType(str):
    """A socket type name that matches `*` and any type whose comma-separated set contains or is contained in its
    own (validation compares types with `!=`)."""

    def __ne__(self, value: object) -> bool:
        if self == "*" or value == "*":
            return False
        if not isinstance(value, str):
            return True
        mine = frozenset(self.split(","))
        theirs = frozenset(value.split(","))
        return not (theirs.issubset(mine) or mine.issubset(theirs))


# --- socket types ----------------------------------------------------------------------------------------------


class _ComfyType:
    """Base of every socket type: `io_type` is its type name, `Type` the Python type of its values."""

    Type = Any
    io_type: str = None


class _IO_V3:
    """An input or output description; `Parent` is the socket type it belongs to."""

    Parent: type[_ComfyType] = None

    def __init__(self) -> None:
        pass

    @property
    def io_type(self) -> Any:
        return self.Parent.io_type

    @property
    def Type(self) -> Any:
        return self.Parent.Type


class Input(_IO_V3):
    """An input socket: `id` is the argument name `execute` receives."""

    def __init__(self, id: str, display_name: str | None = None, optional: bool = False, tooltip: str | None = None,
                 lazy: bool | None = None, extra_dict: dict | None = None):
        super().__init__()
        self.id = id
        self.display_name = display_name
        self.optional = optional
        self.tooltip = tooltip
        self.lazy = lazy
        self.extra_dict = extra_dict if extra_dict is not None else {}

    def as_dict(self) -> dict:
        return _merged(prune_dict({"display_name": self.display_name, "optional": self.optional,
                                   "tooltip": self.tooltip, "lazy": self.lazy}), prune_dict(self.extra_dict))

    def get_io_type(self) -> Any:
        return _StringIOType(self.io_type)


class WidgetInput(Input):
    """An input the frontend shows as a widget (unless `force_input`)."""

    def __init__(self, id: str, display_name: str | None = None, optional: bool = False, tooltip: str | None = None,
                 lazy: bool | None = None, default: Any = None, socketless: bool | None = None,
                 widget_type: str | None = None, force_input: bool | None = None, extra_dict: dict | None = None):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
        self.default = default
        self.socketless = socketless
        self.widget_type = widget_type
        self.force_input = force_input

    def as_dict(self) -> dict:
        return _merged(super().as_dict(), prune_dict({"default": self.default, "socketless": self.socketless,
                                                      "widgetType": self.widget_type,
                                                      "forceInput": self.force_input}))

    def get_io_type(self) -> Any:
        return self.widget_type if self.widget_type is not None else super().get_io_type()


class Output(_IO_V3):
    """An output socket; `display_name` is its label (the type name when None)."""

    def __init__(self, id: str | None = None, display_name: str | None = None, tooltip: str | None = None,
                 is_output_list: bool = False):
        self.id = id
        self.display_name = display_name
        self.tooltip = tooltip
        self.is_output_list = is_output_list

    def as_dict(self) -> dict:
        return prune_dict({"display_name": self.display_name, "tooltip": self.tooltip,
                           "is_output_list": self.is_output_list})

    def get_io_type(self) -> Any:
        return self.io_type


class ComfyTypeI(_ComfyType):
    """A socket type with only an Input (e.g. widgets that never come out of a node)."""

    class Input(Input):
        ...


class ComfyTypeIO(ComfyTypeI):
    """A socket type with an Input and an Output."""

    class Output(Output):
        ...


T = TypeVar("T", bound=type)


def comfytype(io_type: str, **kwargs: Any) -> Callable[[T], T]:
    """Class decorator that makes a socket type named `io_type`.

    The class may set `Type` (the Python type of its values) and nested `Input` / `Output` classes; a class not
    derived from a ComfyType becomes a `ComfyTypeIO`. Its Input and Output get their own copies bound to it.
    """

    def decorate(cls: T) -> T:
        if issubclass(cls, _ComfyType):
            socket_type = cls
        else:
            namespace = {key: value for key, value in cls.__dict__.items()
                         if key not in ("__dict__", "__weakref__", "__module__", "__doc__")}
            socket_type = type(cls.__name__, (cls, ComfyTypeIO), namespace)
            socket_type.__module__ = cls.__module__
            socket_type.__doc__ = cls.__doc__
        socket_type.io_type = _StringIOType(io_type)
        for name in ("Input", "Output"):
            part = getattr(socket_type, name, None)
            if part is not None:
                part = copy_class(part)  # the base type's Input stays bound to the base type
                part.Parent = socket_type
                setattr(socket_type, name, part)
        return socket_type

    return decorate


def Custom(io_type: str) -> type[ComfyTypeIO]:
    """A socket type for a custom type name (a pack's own MY_TYPE)."""

    @comfytype(io_type=io_type)
    class CustomComfyType(ComfyTypeIO):
        ...

    return CustomComfyType


@comfytype(io_type="BOOLEAN")
class Boolean(ComfyTypeIO):
    Type = bool

    class Input(WidgetInput):
        """A toggle; `label_on` / `label_off` name its states."""

        def __init__(self, id: str, display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, default: bool | None = None,
                     label_on: str | None = None, label_off: str | None = None, socketless: bool | None = None,
                     force_input: bool | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input)
            self.label_on = label_on
            self.label_off = label_off

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({"label_on": self.label_on, "label_off": self.label_off}))


@comfytype(io_type="INT")
class Int(ComfyTypeIO):
    Type = int

    class Input(WidgetInput):
        """An integer; validation enforces `min` and `max`."""

        def __init__(self, id: str, display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, default: int | None = None,
                     min: int | None = None, max: int | None = None, step: int | None = None,
                     control_after_generate: bool | None = None, display_mode: NumberDisplay | None = None,
                     socketless: bool | None = None, force_input: bool | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input)
            self.min = min
            self.max = max
            self.step = step
            self.control_after_generate = control_after_generate
            self.display_mode = display_mode

        def as_dict(self) -> dict:
            display = self.display_mode.value if self.display_mode else None
            return _merged(super().as_dict(), prune_dict({
                "min": self.min, "max": self.max, "step": self.step,
                "control_after_generate": self.control_after_generate, "display": display}))


@comfytype(io_type="FLOAT")
class Float(ComfyTypeIO):
    Type = float

    class Input(WidgetInput):
        """A float; validation enforces `min` and `max`; `round` is the frontend's rounding step."""

        def __init__(self, id: str, display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, default: float | None = None,
                     min: float | None = None, max: float | None = None, step: float | None = None,
                     round: float | None = None, display_mode: NumberDisplay | None = None,
                     socketless: bool | None = None, force_input: bool | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input)
            self.min = min
            self.max = max
            self.step = step
            self.round = round
            self.display_mode = display_mode

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({
                "min": self.min, "max": self.max, "step": self.step, "round": self.round,
                "display": self.display_mode}))


@comfytype(io_type="STRING")
class String(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        """A text box (`multiline` is always rendered, false by default)."""

        def __init__(self, id: str, display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, multiline: bool = False,
                     placeholder: str | None = None, default: str | None = None,
                     dynamic_prompts: bool | None = None, socketless: bool | None = None,
                     force_input: bool | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, force_input)
            self.multiline = multiline
            self.placeholder = placeholder
            self.dynamic_prompts = dynamic_prompts

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({
                "multiline": self.multiline, "placeholder": self.placeholder,
                "dynamicPrompts": self.dynamic_prompts}))


@comfytype(io_type="COMBO")
class Combo(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        """A dropdown of `options` (a list, or an Enum class whose values are the options).

        Its type is the string "COMBO", so validation does not check the value against the options.
        """

        Type = str

        def __init__(self, id: str, options: list[str] | list[int] | type[Enum] | None = None,
                     display_name: str | None = None, optional: bool = False, tooltip: str | None = None,
                     lazy: bool | None = None, default: str | int | Enum | None = None,
                     control_after_generate: bool | None = None, upload: UploadType | None = None,
                     image_folder: FolderType | None = None, remote: RemoteOptions | None = None,
                     socketless: bool | None = None):
            if isinstance(options, type) and issubclass(options, Enum):
                options = [member.value for member in options]
            if isinstance(default, Enum):
                default = default.value
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless)
            self.multiselect = False
            self.options = options
            self.control_after_generate = control_after_generate
            self.upload = upload
            self.image_folder = image_folder
            self.remote = remote

        def as_dict(self) -> dict:
            upload = {self.upload.value: True} if self.upload is not None else {}
            return _merged(super().as_dict(), prune_dict({
                "multiselect": self.multiselect, "options": self.options,
                "control_after_generate": self.control_after_generate, **upload,
                "image_folder": self.image_folder.value if self.image_folder else None,
                "remote": self.remote.as_dict() if self.remote else None}))

    class Output(Output):
        """A combo output: its type is the list of options (a classic list-typed output)."""

        def __init__(self, id: str | None = None, display_name: str | None = None, options: list[str] | None = None,
                     tooltip: str | None = None, is_output_list: bool = False):
            super().__init__(id, display_name, tooltip, is_output_list)
            self.options = options if options is not None else []

        @property
        def io_type(self) -> list:
            return self.options


@comfytype(io_type="COMBO")
class MultiCombo(ComfyTypeI):
    """A dropdown where several options may be chosen."""

    Type = list[str]

    class Input(Combo.Input):
        def __init__(self, id: str, options: list[str], display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, default: list[str] | None = None,
                     placeholder: str | None = None, chip: bool | None = None,
                     control_after_generate: bool | None = None, socketless: bool | None = None):
            super().__init__(id, options, display_name, optional, tooltip, lazy, default, control_after_generate,
                             socketless=socketless)
            self.multiselect = True
            self.placeholder = placeholder
            self.chip = chip

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({
                "multi_select": self.multiselect, "placeholder": self.placeholder, "chip": self.chip}))


@comfytype(io_type="WEBCAM")
class Webcam(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        """The webcam widget (its value is the captured image's file name)."""

        Type = str

        def __init__(self, id: str, display_name: str | None = None, optional: bool = False,
                     tooltip: str | None = None, lazy: bool | None = None, default: str | None = None,
                     socketless: bool | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless)


def _socket(name: str, io_type: str, value_type: Any = Any, **members: Any) -> type[ComfyTypeIO]:
    """A plain socket type (no widget): `name` is its attribute name here, `value_type` what flows through it."""
    namespace = {"Type": value_type, "__module__": __name__, "__qualname__": name, **members}
    return comfytype(io_type=io_type)(type(name, (ComfyTypeIO,), namespace))


class _LatentDict(TypedDict, total=False):
    """LATENT: `samples` [B, C, H, W]; optional `noise_mask`, `batch_index`, and `type` for audio / 3D latents."""

    samples: torch.Tensor
    noise_mask: torch.Tensor
    batch_index: list[int]
    type: str


class _PooledDict(TypedDict, total=False):
    """The options dict of one conditioning entry (pooled output, area, mask, strength, timestep range, ...)."""

    pooled_output: torch.Tensor
    area: tuple
    strength: float
    mask: torch.Tensor
    mask_strength: float
    set_area_to_bounds: bool
    start_percent: float
    end_percent: float
    guidance: float
    reference_latents: list[torch.Tensor]


class _AudioDict(TypedDict):
    """AUDIO: `waveform` [B, C, T] in -1..1 and `sample_rate` in Hz."""

    waveform: torch.Tensor
    sample_rate: int


class _CameraInfo(TypedDict):
    position: dict[str, float | int]
    target: dict[str, float | int]
    zoom: int
    cameraType: str


class _Model3DDict(TypedDict, total=False):
    image: str
    mask: str
    normal: str
    camera_info: _CameraInfo
    recording: str


Image = _socket("Image", "IMAGE", torch.Tensor)
WanCameraEmbedding = _socket("WanCameraEmbedding", "WAN_CAMERA_EMBEDDING", torch.Tensor)
Mask = _socket("Mask", "MASK", torch.Tensor)
Latent = _socket("Latent", "LATENT", _LatentDict, LatentDict=_LatentDict)
Conditioning = _socket("Conditioning", "CONDITIONING", list[tuple[torch.Tensor, _PooledDict]],
                       PooledDict=_PooledDict, CondList=list[tuple[torch.Tensor, _PooledDict]])
Sampler = _socket("Sampler", "SAMPLER")
Sigmas = _socket("Sigmas", "SIGMAS", torch.Tensor)
Noise = _socket("Noise", "NOISE", torch.Tensor)
Guider = _socket("Guider", "GUIDER")
Clip = _socket("Clip", "CLIP")
ControlNet = _socket("ControlNet", "CONTROL_NET")
Vae = _socket("Vae", "VAE")
Model = _socket("Model", "MODEL")
ClipVision = _socket("ClipVision", "CLIP_VISION")
ClipVisionOutput = _socket("ClipVisionOutput", "CLIP_VISION_OUTPUT")
StyleModel = _socket("StyleModel", "STYLE_MODEL")
Gligen = _socket("Gligen", "GLIGEN")
UpscaleModel = _socket("UpscaleModel", "UPSCALE_MODEL")
Audio = _socket("Audio", "AUDIO", _AudioDict, AudioDict=_AudioDict)
Video = _socket("Video", "VIDEO")
SVG = _socket("SVG", "SVG")
LoraModel = _socket("LoraModel", "LORA_MODEL", dict[str, torch.Tensor])
LossMap = _socket("LossMap", "LOSS_MAP", dict)
Voxel = _socket("Voxel", "VOXEL")
Mesh = _socket("Mesh", "MESH")
Hooks = _socket("Hooks", "HOOKS")
HookKeyframes = _socket("HookKeyframes", "HOOK_KEYFRAMES")
TimestepsRange = _socket("TimestepsRange", "TIMESTEPS_RANGE", tuple[int, int])
LatentOperation = _socket("LatentOperation", "LATENT_OPERATION", Callable[[torch.Tensor], torch.Tensor])
FlowControl = _socket("FlowControl", "FLOW_CONTROL", tuple[str, Any])
Accumulation = _socket("Accumulation", "ACCUMULATION", dict)
Load3DCamera = _socket("Load3DCamera", "LOAD3D_CAMERA", _CameraInfo, CameraInfo=_CameraInfo)
Load3D = _socket("Load3D", "LOAD_3D", _Model3DDict, Model3DDict=_Model3DDict)
Load3DAnimation = comfytype(io_type="LOAD_3D_ANIMATION")(
    type("Load3DAnimation", (Load3D,), {"__module__": __name__, "__qualname__": "Load3DAnimation"}))
Photomaker = _socket("Photomaker", "PHOTOMAKER")
Point = _socket("Point", "POINT")
FaceAnalysis = _socket("FaceAnalysis", "FACE_ANALYSIS")
BBOX = _socket("BBOX", "BBOX")
SEGS = _socket("SEGS", "SEGS")
AnyType = _socket("AnyType", "*")
MODEL_PATCH = _socket("MODEL_PATCH", "MODEL_PATCH")
AudioEncoder = _socket("AudioEncoder", "AUDIO_ENCODER")
AudioEncoderOutput = _socket("AudioEncoderOutput", "AUDIO_ENCODER_OUTPUT")


@comfytype(io_type="COMFY_MULTITYPED_V3")
class MultiType:
    """An input accepting several socket types (its type is their comma-joined names)."""

    Type = Any

    class Input(Input):
        """`types` lists the accepted socket types (classes or instances). When `id` is itself an Input, that input
        gives the widget and its options (its own optional, tooltip, display name and lazy win when set)."""

        def __init__(self, id: str | Input, types: list[Any], display_name: str | None = None,
                     optional: bool = False, tooltip: str | None = None, lazy: bool | None = None,
                     extra_dict: dict | None = None):
            self.input_override = None
            if isinstance(id, Input):
                self.input_override = copy.copy(id)
                optional = True if id.optional is True else optional
                tooltip = id.tooltip if id.tooltip is not None else tooltip
                display_name = id.display_name if id.display_name is not None else display_name
                lazy = id.lazy if id.lazy is not None else lazy
                id = id.id
                if isinstance(self.input_override, WidgetInput):
                    self.input_override.widget_type = self.input_override.get_io_type()
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
            self._io_types = types

        @property
        def io_types(self) -> list[type]:
            """The accepted socket type classes."""
            return [kind if is_class(kind) else type(kind) for kind in self._io_types]

        def get_io_type(self) -> str:
            names = [kind.io_type for kind in self.io_types]
            if self.input_override is not None:
                names.insert(0, self.input_override.get_io_type())
            return ",".join(dict.fromkeys(names))

        def as_dict(self) -> dict:
            if self.input_override is not None:
                return _merged(self.input_override.as_dict(), super().as_dict())
            return super().as_dict()


class DynamicInput(Input, ABC):
    """An input that stands for the inputs `get_dynamic()` returns."""

    @abstractmethod
    def get_dynamic(self) -> list[Input]:
        ...


class DynamicOutput(Output, ABC):
    """An output that stands for the outputs `get_dynamic()` returns."""

    def __init__(self, id: str | None = None, display_name: str | None = None, tooltip: str | None = None,
                 is_output_list: bool = False):
        super().__init__(id, display_name, tooltip, is_output_list)

    @abstractmethod
    def get_dynamic(self) -> list[Output]:
        ...


@comfytype(io_type="COMFY_AUTOGROW_V3")
class AutogrowDynamic(ComfyTypeI):
    """Inputs made from one template: `min` of them as given, then optional ones up to `max`."""

    Type = list[Any]

    class Input(DynamicInput):
        def __init__(self, id: str, template_input: Input, min: int = 1, max: int | None = None,
                     display_name: str | None = None, optional: bool = False, tooltip: str | None = None,
                     lazy: bool | None = None, extra_dict: dict | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
            self.template_input = template_input
            if min is not None:
                assert min >= 1
            if max is not None:
                assert max >= 1
            self.min = min
            self.max = max

        def get_dynamic(self) -> list[Input]:
            """Input n (from 1) is the template with id `<template id><n>_$<id>_ag$` and display name
            `<display name><n>`; widgets become sockets; those past `min` are optional."""
            made = []
            for number in range(1, max(self.min, self.max or self.min) + 1):
                grown = copy.copy(self.template_input)
                grown.id = f"{grown.id}{number}_${self.id}_ag$"
                if grown.display_name is not None:
                    grown.display_name = f"{grown.display_name}{number}"
                grown.optional = True if number > self.min else (self.optional or grown.optional)
                if isinstance(self.template_input, WidgetInput):
                    grown.force_input = True
                made.append(grown)
            return made


@comfytype(io_type="COMFY_COMBODYNAMIC_V3")
class ComboDynamic(ComfyTypeI):
    class Input(DynamicInput):
        def __init__(self, id: str):
            self.id = id

        def get_dynamic(self) -> list[Input]:
            return []


@comfytype(io_type="COMFY_MATCHTYPE_V3")
class MatchType(ComfyTypeIO):
    """Inputs and outputs that share a template take the same type, chosen among `allowed_types`."""

    class Template:
        def __init__(self, template_id: str, allowed_types: Any):
            self.template_id = template_id
            self.allowed_types = [allowed_types] if isinstance(allowed_types, _ComfyType) else allowed_types

        def as_dict(self) -> dict:
            return {"template_id": self.template_id,
                    "allowed_types": "".join(kind.io_type for kind in self.allowed_types)}

    class Input(DynamicInput):
        def __init__(self, id: str, template: MatchType.Template, display_name: str | None = None,
                     optional: bool = False, tooltip: str | None = None, lazy: bool | None = None,
                     extra_dict: dict | None = None):
            super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
            self.template = template

        def get_dynamic(self) -> list[Input]:
            return [self]

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({"template": self.template.as_dict()}))

    class Output(DynamicOutput):
        def __init__(self, id: str, template: MatchType.Template, display_name: str | None = None,
                     tooltip: str | None = None, is_output_list: bool = False):
            super().__init__(id, display_name, tooltip, is_output_list)
            self.template = template

        def get_dynamic(self) -> list[Output]:
            return [self]

        def as_dict(self) -> dict:
            return _merged(super().as_dict(), prune_dict({"template": self.template.as_dict()}))
