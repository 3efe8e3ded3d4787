"""The V1 node contract as Python types: socket type names (`IO`), input option dicts and the node base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, Literal, TypedDict

from typing_extensions import NotRequired


class StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value


class _AnyType(str):
    """The wildcard socket type "*": it compares equal to every type, so validation accepts any link."""

    def __ne__(self, other: object) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


class IO(StrEnum):
    """Socket type names of the built-in nodes."""

    STRING = "STRING"
    IMAGE = "IMAGE"
    MASK = "MASK"
    LATENT = "LATENT"
    BOOLEAN = "BOOLEAN"
    INT = "INT"
    FLOAT = "FLOAT"
    COMBO = "COMBO"
    CONDITIONING = "CONDITIONING"
    SAMPLER = "SAMPLER"
    SIGMAS = "SIGMAS"
    GUIDER = "GUIDER"
    NOISE = "NOISE"
    CLIP = "CLIP"
    CONTROL_NET = "CONTROL_NET"
    VAE = "VAE"
    MODEL = "MODEL"
    CLIP_VISION = "CLIP_VISION"
    CLIP_VISION_OUTPUT = "CLIP_VISION_OUTPUT"
    STYLE_MODEL = "STYLE_MODEL"
    GLIGEN = "GLIGEN"
    UPSCALE_MODEL = "UPSCALE_MODEL"
    AUDIO = "AUDIO"
    WEBCAM = "WEBCAM"
    POINT = "POINT"
    FACE_ANALYSIS = "FACE_ANALYSIS"
    BBOX = "BBOX"
    SEGS = "SEGS"
    VIDEO = "VIDEO"

    ANY = "*"
    NUMBER = "FLOAT,INT"
    PRIMITIVE = "STRING,FLOAT,INT,BOOLEAN"

    def __ne__(self, value: object) -> bool:
        if self.value == "*" or value == "*":
            return False
        if not isinstance(value, str):
            return True
        return not set(value.split(",")) & set(self.value.split(","))

    def __eq__(self, value: object) -> bool:
        return not self.__ne__(value)

    __hash__ = StrEnum.__hash__


class InputTypeOptions(TypedDict, total=False):
    """Options of one input (the second element of its `(TYPE, options)` tuple)."""

    default: Any
    defaultInput: bool
    forceInput: bool
    lazy: bool
    rawLink: bool
    tooltip: str
    socketless: bool
    widgetType: str
    min: float
    max: float
    step: float
    round: float | Literal[False]
    label_on: str
    label_off: str
    multiline: bool
    placeholder: str
    dynamicPrompts: bool
    image_upload: bool
    image_folder: Literal["input", "output", "temp"]
    remote: dict
    control_after_generate: bool
    options: list
    multi_select: dict
    display: Literal["slider", "number", "color"]


class HiddenInputTypeDict(TypedDict, total=False):
    node_id: Literal["UNIQUE_ID"]
    unique_id: Literal["UNIQUE_ID"]
    prompt: Literal["PROMPT"]
    extra_pnginfo: Literal["EXTRA_PNGINFO"]
    dynprompt: Literal["DYNPROMPT"]


class InputTypeDict(TypedDict):
    """What `INPUT_TYPES()` returns."""

    required: NotRequired[dict[str, tuple]]
    optional: NotRequired[dict[str, tuple]]
    hidden: NotRequired[HiddenInputTypeDict]


class FileLocator(TypedDict):
    filename: str
    subfolder: str
    type: Literal["input", "output", "temp"]


class ComfyNodeABC(ABC):
    """Base class for V1 nodes: declares the class attributes the executor reads."""

    DESCRIPTION: str
    CATEGORY: str
    EXPERIMENTAL: bool
    DEPRECATED: bool
    API_NODE: bool

    @classmethod
    @abstractmethod
    def INPUT_TYPES(cls) -> InputTypeDict:  # noqa: N802 - the contract's name
        """The node's inputs."""

    RETURN_TYPES: tuple
    RETURN_NAMES: tuple[str, ...]
    OUTPUT_TOOLTIPS: tuple[str, ...]
    OUTPUT_IS_LIST: tuple[bool, ...]
    INPUT_IS_LIST: bool
    FUNCTION: str
    OUTPUT_NODE: bool


class CheckLazyMixin:
    """Default `check_lazy_status`: ask for every lazy input that is still None."""

    def check_lazy_status(self, **kwargs: Any) -> list[str]:
        need = [name for name, value in kwargs.items() if value is None]
        return need


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = "Kiln's node typing has no remote or multi-select input options yet"

MultiSelectOptions = unsupported_class(__name__, 'MultiSelectOptions', None, _REASON)
RemoteInputOptions = unsupported_class(__name__, 'RemoteInputOptions', None, _REASON)
