"""A pack whose import fails: it needs a module that is not installed."""

import kiln_module_that_is_not_installed  # noqa: F401

NODE_CLASS_MAPPINGS = {}
