"""ComfyUI's `comfy.checkpoint_pickle`: a pickle module that `torch.load(..., pickle_module=)` can use for old
checkpoints whose pickles name the long-gone `pytorch_lightning` callbacks; those classes unpickle as `Empty`."""

import pickle

load = pickle.load


class Empty:
    """Stands in for any class the checkpoint's pickle names under `pytorch_lightning`."""


class Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if module.startswith("pytorch_lightning"):
            return Empty
        return super().find_class(module, name)
