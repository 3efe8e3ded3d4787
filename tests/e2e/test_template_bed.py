"""ComfyUI's template library as a test bed (tests/template_bed.py): every local template of
comfyui-workflow-templates 0.1.95 that uses only node classes and model families Kiln has runs through the server
on reduced random weights, and each of its output nodes saves files. bench/templates.py prints the whole table."""

import pytest

from tests.template_bed import classify, kiln_node_classes, local_templates, run_template

from .conftest import KilnServer


@pytest.fixture(scope="module")
def bed_server(module_tmp):
    server = KilnServer(module_tmp("kiln-template-bed"), [])
    server.start()
    yield server
    server.stop()


def test_every_template_kiln_has_the_nodes_and_families_for_runs(bed_server):
    names = local_templates()
    if not names:
        pytest.skip("comfyui-workflow-templates is not installed (pip install '.[test]')")
    kiln_classes = kiln_node_classes()
    ready = [name for name in names if classify(name, kiln_classes)[1] == "ready"]
    assert len(ready) >= 42  # the templates of Kiln's nodes and families (issues 15, 16, 17, 19 and 20)
    failures = {name: status for name in ready
                if (status := run_template(name, bed_server.url, bed_server.base_dir)) != "runs"}
    assert failures == {}
