import pytest

import nodes
from tests.unit import engine_nodes


@pytest.fixture
def engine_nodes_registered(monkeypatch):
    """Register the engine test nodes in NODE_CLASS_MAPPINGS for one test; reset their call log."""
    for name, node_class in engine_nodes.ENGINE_NODES.items():
        monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, name, node_class)
    engine_nodes.CALLS.clear()
    return engine_nodes
