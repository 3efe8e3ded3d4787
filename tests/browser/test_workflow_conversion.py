"""Kiln's conversion of UI-format workflows (comfy_execution/workflow_format) against the frontend's own
`app.graphToPrompt()`, in Chromium, for every workflow of comfyui-workflow-templates 0.1.95 (the 172 that ComfyUI
0.3.64 ships, API-node ones included: conversion needs no weights).

Both sides read the same node interfaces: ComfyUI 0.3.64's `/object_info`, recorded from the oracle
(tests/fixtures/comfyui/object_info_0.3.64.json, tools/oracle/record_object_info.py), which the browser gets in
place of Kiln's own (Kiln lacks many of the templates' node classes; a node the frontend does not know loses its
widgets and the comparison would say nothing). One more input is the frontend's: it titles an untitled node with
its bundled English display name (from a newer ComfyUI than the recorded one, e.g. "Detect Edges (Canny)" for
Canny), so the converter is given those names as the classes' display names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from comfy_execution.workflow_format import WorkflowFormatError, convert_workflow
from tests.e2e.conftest import KilnServer

from .editor import new_context, open_editor

OBJECT_INFO = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui" / "object_info_0.3.64.json"


def template_folder() -> Path | None:
    try:
        import comfyui_workflow_templates
    except ImportError:
        return None
    return Path(comfyui_workflow_templates.__file__).parent / "templates"


TEMPLATES = template_folder()
TEMPLATE_NAMES = sorted(path.stem for path in TEMPLATES.glob("*.json") if not path.name.startswith("index")) \
    if TEMPLATES else []

# Where Kiln's answer differs from the frontend's, and why.
DIFFERENCES = {
    "video_wan2_2_14B_animate": "uses node types of custom-node packs that ComfyUI 0.3.64 lacks "
                                "(PixelPerfectResolution, DWPreprocessor, Sam2Segmentation, ...): the frontend "
                                "sends them without a class_type; Kiln refuses the graph, naming the first one",
}

LOAD_AND_CONVERT = """async (workflow) => {
    await window.app.loadGraphData(workflow, true, false, null, {deferWarnings: true, skipAssetScans: true});
    return (await window.app.graphToPrompt()).output;
}"""
FRONTEND_TITLES = """() => Object.fromEntries(Object.entries(window.LiteGraph.registered_node_types)
    .map(([name, type]) => [name, type.title]))"""


@pytest.fixture(scope="module")
def frontend_conversions(chromium: Browser, kiln: KilnServer, screenshots: Path) -> Iterator[tuple[dict, dict]]:
    """(graphToPrompt's output or {"error": message} per template; the recorded interfaces, titled as the
    frontend titles them)."""
    if TEMPLATES is None:
        pytest.skip("comfyui-workflow-templates is not installed (pip install '.[test]')")
    recorded = OBJECT_INFO.read_bytes()
    context = new_context(chromium, kiln)
    context.route("**/api/object_info", lambda route: route.fulfill(body=recorded, content_type="application/json"))
    editor = open_editor(context, kiln, screenshots, first_run=True)
    outputs: dict[str, dict] = {}
    for name in TEMPLATE_NAMES:
        workflow = json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))
        try:
            outputs[name] = editor.page.evaluate(LOAD_AND_CONVERT, workflow)
        except Exception as error:  # noqa: BLE001 (the test reports it per template)
            outputs[name] = {"error": str(error)[:500]}
    titles = editor.page.evaluate(FRONTEND_TITLES)
    context.close()
    interfaces = {class_name: {**info, "display_name": titles.get(class_name, info.get("display_name"))}
                  for class_name, info in json.loads(recorded).items()}
    yield outputs, interfaces


def test_the_templates_are_the_172_of_version_0_1_95():
    if TEMPLATES is None:
        pytest.skip("comfyui-workflow-templates is not installed (pip install '.[test]')")
    assert len(TEMPLATE_NAMES) == 172


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_kiln_converts_the_template_as_the_frontend_does(name, frontend_conversions):
    outputs, interfaces = frontend_conversions
    expected = outputs[name]
    assert "error" not in expected or name in DIFFERENCES, expected
    workflow = json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))
    if name in DIFFERENCES:
        with pytest.raises(WorkflowFormatError):
            convert_workflow(workflow, interfaces, choose=lambda options: options[0])
        return
    assert convert_workflow(workflow, interfaces, choose=lambda options: options[0]) == expected
