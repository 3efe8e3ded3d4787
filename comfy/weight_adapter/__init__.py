"""ComfyUI's `comfy.weight_adapter`: Kiln applies LoRA-family weights with its own code (comfy.lora). A pack's
`LoRAAdapter` (on `WeightAdapterBase`) is a real patch for `ModelPatcher.add_patches`; the other adapters and
the lists of them are faces, importable with ComfyUI's kind and signature and raising UnsupportedError when used
(comfy/unsupported.py). The adapter classes are re-exported here as ComfyUI's package does.
"""

from comfy.unsupported import UnsupportedValue
from comfy.weight_adapter.base import WeightAdapterBase, WeightAdapterTrainBase
from comfy.weight_adapter.boft import BOFTAdapter
from comfy.weight_adapter.glora import GLoRAAdapter
from comfy.weight_adapter.loha import LoHaAdapter
from comfy.weight_adapter.lokr import LoKrAdapter
from comfy.weight_adapter.lora import LoRAAdapter
from comfy.weight_adapter.oft import OFTAdapter

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

adapter_maps = UnsupportedValue(__name__, 'adapter_maps', _REASON)
adapters = UnsupportedValue(__name__, 'adapters', _REASON)

__all__ = ["BOFTAdapter", "GLoRAAdapter", "LoHaAdapter", "LoKrAdapter", "LoRAAdapter", "OFTAdapter",
           "WeightAdapterBase", "WeightAdapterTrainBase", "adapter_maps", "adapters"]
