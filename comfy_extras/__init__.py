"""Built-in node modules beyond `nodes.py`, each with its own `NODE_CLASS_MAPPINGS` (merged by the node loader)."""
