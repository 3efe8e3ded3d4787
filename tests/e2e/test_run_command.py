"""`python main.py run`: one workflow from a file, in this process or on a running server, and its bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests import model_factory

from .conftest import REPO_ROOT, start_server

DEMO_WORKFLOW = REPO_ROOT / "workflows" / "demo_txt2img.json"
TINY = ["--set", "4.ckpt_name=tiny.safetensors", "--set", "3.steps=3"]


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("run-command")
    (base / "models" / "checkpoints").mkdir(parents=True)
    model_factory.write_tiny_checkpoint(base / "models" / "checkpoints" / "tiny.safetensors", "SD15", 0)
    return base


def run(*arguments: str, base: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "main.py", "run", *arguments]
    if base is not None:
        command += ["--base-directory", str(base)]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"})


def test_the_demo_workflow_runs_and_prints_the_saved_image(base_dir):
    result = run(str(DEMO_WORKFLOW), *TINY, "--set", "6.text=a red circle on a blue background", base=base_dir)
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == 1 and paths[0].parent == base_dir / "output" and paths[0].name.startswith("kiln-demo")
    with Image.open(paths[0]) as image:
        assert image.size == (64, 64)
        prompt = json.loads(image.info["prompt"])
    assert prompt["6"]["inputs"]["text"] == "a red circle on a blue background"  # --set reached the graph
    assert prompt["3"]["inputs"]["steps"] == 3
    assert "KSampler #3" in result.stderr and "3/3" in result.stderr  # the progress bar


def test_output_directory_moves_the_saved_image(base_dir, tmp_path):
    result = run(str(DEMO_WORKFLOW), *TINY, "--output-directory", str(tmp_path / "elsewhere"), base=base_dir)
    assert result.returncode == 0, result.stderr
    (path,) = [Path(line) for line in result.stdout.splitlines()]
    assert path.parent == tmp_path / "elsewhere" and path.is_file()


@pytest.mark.parametrize(("arguments", "message"), [
    (["missing.json"], "workflow file 'missing.json' does not exist"),
    ([str(DEMO_WORKFLOW), "--set", "99.text=x"], "the workflow has no node '99' (its nodes: 3, 4, 5, 6, 7, 8, 9)"),
    ([str(DEMO_WORKFLOW), "--set", "6.txt=x"], "node 6 (CLIPTextEncode) has no input 'txt' (its inputs: clip, text)"),
    ([str(DEMO_WORKFLOW), "--set", "6text"], "--set expects NODE.INPUT=VALUE"),
    ([str(DEMO_WORKFLOW), "--set", "3.steps=many"], "--set 3.steps: 'many' is not a valid int"),
])
def test_bad_command_lines_get_one_clear_line_and_status_2(arguments, message, base_dir):
    result = run(*arguments, base=base_dir)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_ui_format_workflow_is_converted_and_runs(tmp_path, base_dir):
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"last_node_id": 2, "version": 0.4, "links": [[1, 1, 0, 2, 0, "IMAGE"]], "nodes": [
        {"id": 1, "type": "EmptyImage", "mode": 0, "widgets_values": [8, 8, 1, 255],
         "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}]},
        {"id": 2, "type": "SaveImage", "mode": 0, "widgets_values": ["from-ui"],
         "inputs": [{"name": "images", "type": "IMAGE", "link": 1}]},
        {"id": 3, "type": "Note", "mode": 0, "widgets_values": ["frontend only"]}]}))
    result = run(str(ui), "--set", "1.width=16", base=base_dir)
    assert result.returncode == 0, result.stderr
    (path,) = [Path(line) for line in result.stdout.splitlines()]
    with Image.open(path) as image:
        assert path.name.startswith("from-ui") and image.size == (16, 8)


def test_a_saved_png_runs_again_from_the_prompt_it_embeds(base_dir, tmp_path):
    first = run(str(DEMO_WORKFLOW), *TINY, "--set", "6.text=a star", base=base_dir)
    assert first.returncode == 0, first.stderr
    (png,) = [Path(line) for line in first.stdout.splitlines()]
    again = run(str(png), base=base_dir)
    assert again.returncode == 0, again.stderr
    (path,) = [Path(line) for line in again.stdout.splitlines()]
    with Image.open(path) as image:
        assert json.loads(image.info["prompt"])["6"]["inputs"]["text"] == "a star"


def test_an_image_without_a_workflow_is_refused(tmp_path, base_dir):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    result = run(str(tmp_path / "plain.png"), base=base_dir)
    assert result.returncode == 2 and "embeds no workflow" in result.stderr


def test_not_json_is_refused(tmp_path, base_dir):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = run(str(bad), base=base_dir)
    assert result.returncode == 2 and "is not valid JSON" in result.stderr


def test_an_invalid_workflow_names_the_node_and_the_problem(base_dir):
    result = run(str(DEMO_WORKFLOW), base=base_dir)  # kiln-demo-shapes.safetensors is not in this base folder
    assert result.returncode == 1
    assert "node 4 (CheckpointLoaderSimple)" in result.stderr and "kiln-demo-shapes.safetensors" in result.stderr


def test_a_node_error_names_the_node_and_exits_1(base_dir, tmp_path):
    broken = tmp_path / "broken.json"
    prompt = json.loads(DEMO_WORKFLOW.read_text())
    broken.write_text(json.dumps(prompt))
    (base_dir / "models" / "checkpoints" / "broken.safetensors").write_bytes(b"not a checkpoint")
    result = run(str(broken), "--set", "4.ckpt_name=broken.safetensors", base=base_dir)
    assert result.returncode == 1
    assert "node 4 (CheckpointLoaderSimple) failed" in result.stderr and "broken.safetensors" in result.stderr


def test_server_mode_queues_on_a_running_kiln_and_downloads_the_image(base_dir, tmp_path_factory, tmp_path):
    server = start_server(tmp_path_factory, "run-command-server")
    try:
        checkpoints = server.base_dir / "models" / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        (checkpoints / "tiny.safetensors").write_bytes((base_dir / "models" / "checkpoints" / "tiny.safetensors").read_bytes())
        listed = run(str(DEMO_WORKFLOW), *TINY, "--server", server.url)
        assert listed.returncode == 0, listed.stderr + server.log()
        (url,) = listed.stdout.splitlines()
        assert url.startswith(f"{server.url}/view?filename=kiln-demo") and "type=output" in url
        assert "KSampler #3" in listed.stderr
        downloaded = run(str(DEMO_WORKFLOW), *TINY, "--server", server.url, "--output-directory", str(tmp_path))
        assert downloaded.returncode == 0, downloaded.stderr
        (path,) = [Path(line) for line in downloaded.stdout.splitlines()]
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (server.output_dir / path.name).read_bytes() == path.read_bytes()
        refused = run(str(DEMO_WORKFLOW), "--server", server.url)  # no such checkpoint on the server
        assert refused.returncode == 1 and "node 4 (CheckpointLoaderSimple)" in refused.stderr
        assert server.is_alive()
    finally:
        server.stop()
