"""Import the model library (diffusers, transformers and Kiln's loaders) on a background thread.

Those imports take about 4 s on a 2-core CPU. Start-up does not wait for them (the server answers at once),
but the first checkpoint load would; importing them while the user is still composing the first prompt takes
that wait out of the time to the first image. A load that starts before the imports finish simply waits for
them (Python's import lock), so nothing runs twice.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

MODEL_LIBRARY_MODULES = ("comfy.sd", "comfy.supported_models", "comfy.clip_object", "comfy.vae")


def _import_model_library() -> None:
    started = time.perf_counter()
    try:
        for name in MODEL_LIBRARY_MODULES:
            importlib.import_module(name)
        from comfy.families import import_network_libraries

        import_network_libraries()  # diffusers' networks and converters, under the loaders' lock
    except Exception:  # the loader nodes will raise the same error, with the node's context, when used
        logging.exception("Importing the model library in the background failed")
        return
    logging.debug("Model library imported in the background in %.1f s", time.perf_counter() - started)


def import_model_library_in_background() -> threading.Thread:
    """Start importing the model library on a daemon thread and return the thread."""
    thread = threading.Thread(target=_import_model_library, name="model-library-import", daemon=True)
    thread.start()
    return thread
