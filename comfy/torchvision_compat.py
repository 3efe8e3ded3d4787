"""Keep an installed torchvision importable when its compiled operators cannot load.

pip pairs `torch==2.13.0+cpu` (a CPU-only build) with PyPI's torchvision 0.28.0, whose operator library links
against torch's CUDA libraries. torchvision imports fine without that library except for one step: it registers
fake kernels for `torchvision::nms` and `torchvision::qnms`, which raises "operator torchvision::nms does not
exist" when the operators were never defined. transformers then refuses to import its models (it imports
torchvision whenever torchvision is installed), and spandrel, the upscale-model loader, imports it too.

`install()` adds an import hook that runs just before torchvision is first imported: if the operator library
loads, nothing changes; if it does not, the two operator schemas are defined without kernels, so torchvision's
pure-Python parts (transforms, which spandrel uses) import, and calling those operators raises torch's "no
kernel" error. torch itself is imported only then, never at start-up.
"""

from __future__ import annotations

import glob
import importlib.abc
import importlib.util
import logging
import os
import sys

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor qdets, Tensor qscores, float iou_threshold) -> Tensor",
)
_libraries: list = []  # keeps the torch.library.Library defining the schemas alive


def _operator_library(origin: str) -> str | None:
    matches = glob.glob(os.path.join(os.path.dirname(origin), "_C.*so")) + glob.glob(
        os.path.join(os.path.dirname(origin), "_C.*pyd"))
    return matches[0] if matches else None


def define_missing_operators() -> bool:
    """Define torchvision's nms/qnms schemas if its operator library cannot load; True if it had to."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return False
    library_path = _operator_library(spec.origin)
    import torch

    if library_path is not None:
        try:
            torch.ops.load_library(library_path)
            return False
        except (OSError, RuntimeError) as error:
            reason = str(error).splitlines()[0]
    else:
        reason = "no operator library"
    if _defined(torch):  # another copy of this hook (or torchvision itself) got there first
        return False
    library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        library.define(schema)
    _libraries.append(library)
    logging.info("torchvision %s: its compiled operators do not load beside torch %s (%s); its Python parts "
                 "still work", spec.origin, torch.__version__, reason)
    return True


def _defined(torch) -> bool:
    """Whether the torchvision operator namespace already has the schemas (the registry is process-wide)."""
    try:
        torch._C._dispatch_find_schema_or_throw("torchvision::nms", "")
    except RuntimeError:
        return False
    return True


class _BeforeTorchvision(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            uninstall()
            define_missing_operators()
        return None  # the normal finders import it


_hook = _BeforeTorchvision()


def install() -> None:
    """Run `define_missing_operators` just before torchvision is first imported (no-op if already imported)."""
    if "torchvision" not in sys.modules and _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)


def uninstall() -> None:
    if _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
