"""The official web frontend (comfyui-frontend-package) on Kiln, in a real Chromium, used the way a person does.

One page load does the first-run work: the editor renders, the node library lists the core nodes, the classic SD1
text-to-image graph is opened from a file (File > Open) with the tiny checkpoint, run with the Run button, and its
image shows in the assets panel; the PNG it saved carries the graph, and dropping that PNG on the canvas brings the
graph back. Then a setting is changed and the workflow saved in the UI, the server restarts, and a second page load
(a fresh browser profile) finds both again. The tests run in file order and build on each other. A screenshot of
each stage lands in the `browser-screenshots` temporary folder.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import KilnServer

from .conftest import CHECKPOINT_NAME
from .editor import EditorPage, find_in_node_library, new_context, open_editor

OUTPUT_PREFIX = "kiln-browser"
SAVED_WORKFLOW = "kiln-browser-saved"
CANVAS_INFO_SWITCH = re.compile(r"^Show canvas info")
CLASSIC_NODE_TYPES = ["CheckpointLoaderSimple", "CLIPTextEncode", "CLIPTextEncode", "EmptyLatentImage", "KSampler",
                      "VAEDecode", "SaveImage"]
RUN_TIMEOUT_SECONDS = 120


def classic_txt2img(checkpoint: str) -> dict:
    """The classic SD1 text-to-image graph in API format: a checkpoint, two prompts, an empty latent, KSampler,
    VAE decode and SaveImage; small and quick (64x64, 2 steps)."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle on a blue background", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 5, "steps": 2, "cfg": 6.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": OUTPUT_PREFIX, "images": ["8", 0]}},
    }


@pytest.fixture(scope="module")
def editor(chromium, kiln: KilnServer, screenshots: Path) -> Iterator[EditorPage]:
    """The first page load, on a server that has never seen a browser (so the first-run dialog shows)."""
    context = new_context(chromium, kiln)
    yield open_editor(context, kiln, screenshots, first_run=True)
    context.close()


def graph_node_types(editor: EditorPage) -> list[str]:
    return sorted(editor.page.evaluate("() => window.app.graph.nodes.map(node => node.type)"))


def open_from_menu(editor: EditorPage, path: Path) -> None:
    """File > Open, then pick `path` in the file chooser."""
    page = editor.page
    page.get_by_role("button", name="Menu", exact=True).click()
    page.get_by_role("menuitem", name="File").hover()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("menuitem", name="Open").click()
    chooser.value.set_files(str(path))


def saved_outputs(kiln: KilnServer) -> list[Path]:
    return sorted(kiln.output_dir.glob(f"{OUTPUT_PREFIX}_*.png"))


def test_the_editor_renders_its_canvas_without_uncaught_errors(editor):
    canvas = editor.page.locator("canvas#graph-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 300
    editor.screenshot("01-editor")
    assert editor.page_errors == []


def test_the_node_library_lists_ksampler_and_checkpoint_loader(editor):
    find_in_node_library(editor, "KSampler", "KSampler", "02-node-library-ksampler")
    find_in_node_library(editor, "CheckpointLoaderSimple", "Load Checkpoint", "03-node-library-checkpoint-loader")
    assert editor.page_errors == []


def test_the_classic_graph_runs_from_the_run_button_and_its_image_shows_in_the_assets_panel(editor, kiln, tmp_path):
    page = editor.page
    workflow_file = tmp_path / "classic_txt2img.json"
    workflow_file.write_text(json.dumps(classic_txt2img(CHECKPOINT_NAME)), encoding="utf-8")
    open_from_menu(editor, workflow_file)
    page.wait_for_function("() => window.app.graph.nodes.length === 7")
    assert graph_node_types(editor) == sorted(CLASSIC_NODE_TYPES)
    checkpoint = page.evaluate("() => window.app.graph.nodes.find(node => node.type === 'CheckpointLoaderSimple')"
                               ".widgets.find(widget => widget.name === 'ckpt_name').value")
    assert checkpoint == CHECKPOINT_NAME
    editor.screenshot("04-classic-graph-loaded")

    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while not saved_outputs(kiln) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert saved_outputs(kiln), f"no {OUTPUT_PREFIX}_*.png in {kiln.output_dir} after {RUN_TIMEOUT_SECONDS} s"
    image_name = saved_outputs(kiln)[0].name

    page.get_by_role("button", name="Assets (a)").click()
    page.locator(f"img[src*='filename={image_name}']").first.wait_for()
    editor.screenshot("05-image-in-assets-panel")
    page.get_by_role("button", name="Assets (a)").click()
    assert editor.page_errors == []


def test_the_saved_png_carries_the_prompt_and_the_editor_workflow(kiln):
    with Image.open(saved_outputs(kiln)[0]) as image:
        chunks = dict(image.text)
    prompt = json.loads(chunks["prompt"])
    workflow = json.loads(chunks["workflow"])
    assert sorted(node["class_type"] for node in prompt.values()) == sorted(CLASSIC_NODE_TYPES)
    assert sorted(node["type"] for node in workflow["nodes"]) == sorted(CLASSIC_NODE_TYPES)
    assert len(workflow["links"]) == 9


def test_dropping_the_saved_png_on_the_canvas_restores_its_graph(editor, kiln):
    page = editor.page
    page.get_by_role("button", name="Create a new blank workflow").click()
    page.wait_for_function("() => window.app.graph.nodes.length === 0")
    png = base64.b64encode(saved_outputs(kiln)[0].read_bytes()).decode("ascii")
    page.evaluate("""([data, name]) => {
        const bytes = Uint8Array.from(atob(data), character => character.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: 'image/png'}));
        const canvas = document.querySelector('canvas#graph-canvas');
        const box = canvas.getBoundingClientRect();
        canvas.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true,
                                                    clientX: box.x + box.width / 2, clientY: box.y + box.height / 2}));
    }""", [png, saved_outputs(kiln)[0].name])
    page.wait_for_function("() => window.app.graph.nodes.length === 7")
    assert graph_node_types(editor) == sorted(CLASSIC_NODE_TYPES)
    editor.screenshot("06-graph-restored-from-png")
    assert editor.page_errors == []


def test_a_setting_changed_and_a_workflow_saved_in_the_ui_survive_a_server_restart(editor, kiln, chromium,
                                                                                    screenshots):
    page = editor.page
    page.get_by_role("button", name="Settings (Ctrl + ,)").click()
    page.get_by_placeholder("Search", exact=False).last.fill("canvas info")
    switch = page.get_by_role("switch", name=CANVAS_INFO_SWITCH)
    assert switch.get_attribute("aria-checked") == "true"
    with page.expect_response(lambda response: "/api/settings/Comfy.Graph.CanvasInfo" in response.url) as saved:
        switch.click()
    assert saved.value.ok
    editor.screenshot("07-setting-changed")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Menu", exact=True).click()
    page.get_by_role("menuitem", name="File").hover()
    page.get_by_role("menuitem", name="Save", exact=True).click()
    name_input = page.get_by_role("dialog").locator("input")
    name_input.fill(SAVED_WORKFLOW)
    with page.expect_response(lambda response: "/api/userdata/workflows" in response.url
                              and response.request.method == "POST") as stored:
        name_input.press("Enter")
    assert stored.value.ok
    editor.screenshot("08-workflow-saved")
    assert editor.page_errors == []

    kiln.stop()
    kiln.start()

    context = new_context(chromium, kiln)
    try:
        after = open_editor(context, kiln, screenshots, first_run=False)
        after.page.get_by_role("button", name="Workflows (w)").click()
        after.page.get_by_text(SAVED_WORKFLOW, exact=True).first.wait_for()
        after.screenshot("09-after-restart-workflow-listed")
        after.page.get_by_role("button", name="Settings (Ctrl + ,)").click()
        after.page.get_by_placeholder("Search", exact=False).last.fill("canvas info")
        assert after.page.get_by_role("switch", name=CANVAS_INFO_SWITCH).get_attribute("aria-checked") == "false"
        after.screenshot("10-after-restart-setting-kept")
        assert after.page_errors == []
    finally:
        context.close()
