"""`python main.py run`: run one workflow from a file and print the paths of the images it saved.

    python main.py run WORKFLOW [--set NODE.INPUT=VALUE ...] [--output-directory DIR] [--server URL]
                                     [any of the server's flags: --cpu, --base-directory, ...]

WORKFLOW is an API-format prompt (JSON), a workflow saved from the editor (UI format: converted as the frontend's
"Save (API)" would, comfy_execution/workflow_format), or a PNG or WebP image saved by ComfyUI or Kiln (the prompt
embedded in it, else its embedded workflow).

Without `--server` the workflow runs in this process through the same validation and `PromptExecutor` the
server uses (no HTTP server starts), with a progress bar per node that reports steps. With `--server URL` it
is queued on a running Kiln (or ComfyUI) over HTTP, followed over its WebSocket, and the saved images are
listed as `/view` URLs (and downloaded into `--output-directory` when that is given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.parse
import uuid
from typing import Any

from comfy_execution.workflow_inputs import node_order

USAGE = "python main.py run WORKFLOW.json|IMAGE.png [--set NODE.INPUT=VALUE ...] [--output-directory DIR] [--server URL]"


class RunError(Exception):
    """A problem with the command line or the workflow, reported as one line and exit status 2."""


# -- the workflow file and --set ----------------------------------------------------------------------------------

def read_workflow_file(path: str) -> dict[str, Any]:
    """The JSON object in `path`: a `.json` file, or the `prompt` (else `workflow`) a PNG or WebP image embeds
    (PNG text chunks; WebP EXIF Model `prompt:...` / Make `workflow:...`, as ComfyUI's savers write them)."""
    if not os.path.isfile(path):
        raise RunError(f"workflow file {path!r} does not exist")
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"\x89PNG") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _embedded_workflow(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} is not a workflow (a JSON object)")
    return data


def _embedded_workflow(path: str) -> dict[str, Any]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            texts = {key: value for key, value in image.info.items() if isinstance(value, str)}
            for tag, value in image.getexif().items():
                if tag in (0x010F, 0x0110) and isinstance(value, str) and ":" in value:
                    key, _, text = value.partition(":")
                    texts.setdefault(key, text)
    except OSError as error:
        raise RunError(f"{path} cannot be read as an image: {error}") from None
    for key in ("prompt", "workflow"):
        if key in texts:
            try:
                data = json.loads(texts[key])
            except json.JSONDecodeError:
                raise RunError(f"{path}: its embedded {key} is not valid JSON") from None
            if isinstance(data, dict):
                return data
    raise RunError(f"{path} embeds no workflow (no 'prompt' or 'workflow' metadata: was it saved with "
                   "--disable-metadata, or by another program?)")


def load_workflow(path: str, convert: Any = None) -> dict[str, Any]:
    """The API-format prompt in `path` (also accepted: a saved `/prompt` body, `{"prompt": {...}}`). A UI-format
    workflow is turned into one by `convert(workflow)`; without `convert` it is refused."""
    from comfy_execution.workflow_format import WorkflowFormatError, is_ui_workflow

    data = read_workflow_file(path)
    if isinstance(data.get("prompt"), dict):
        data = data["prompt"]
    elif is_ui_workflow(data.get("workflow")):
        data = data["workflow"]
    if is_ui_workflow(data):
        if convert is None:
            raise RunError(f"{path} is a UI-format workflow, which needs the node interfaces to convert")
        try:
            data = convert(data)
        except WorkflowFormatError as error:
            raise RunError(f"{path}: the workflow cannot be converted: {error}") from None
    if not data:
        raise RunError(f"{path} is not an API-format workflow (a JSON object of nodes by id)")
    for node_id, node in data.items():
        if not isinstance(node, dict) or "class_type" not in node:
            raise RunError(f"{path} is not an API-format workflow: node {node_id!r} has no class_type")
        node.setdefault("inputs", {})
    return data


def apply_settings(prompt: dict[str, Any], settings: list[str], declared_inputs: Any = None) -> None:
    """Apply each `NODE.INPUT=VALUE` to `prompt` in place. `declared_inputs(class_type)` may name the inputs a
    node class accepts beyond those the workflow sets (None: only the workflow's own)."""
    from comfy_execution.workflow_inputs import SettingError, set_input, split_setting

    for setting in settings:
        try:
            node_id, input_name, raw = split_setting(setting)
            set_input(prompt, node_id, input_name, raw, as_text=True, declared_inputs=declared_inputs)
        except SettingError as error:
            raise RunError(f"--set {error}") from None


def _declared_inputs(class_type: str) -> list[str]:
    from comfy_execution.workflow_inputs import declared_inputs

    return declared_inputs(class_type)


# -- progress on the console -------------------------------------------------------------------------------------

class ConsoleProgress:
    """Turns the executor's messages (or the server's) into one tqdm bar per node that reports progress."""

    def __init__(self, prompt: dict[str, Any]):
        self.prompt = prompt
        self.bars: dict[str, Any] = {}
        self.error: dict[str, Any] | None = None
        self.interrupted = False

    def handle(self, event: str, data: Any) -> None:
        if event == "progress":
            self._progress(str(data.get("node")), data.get("value", 0), data.get("max", 1))
        elif event == "executing" and data.get("node") is None:
            self.close()
        elif event == "execution_error":
            self.error = data
        elif event == "execution_interrupted":
            self.interrupted = True

    def _progress(self, node_id: str, value: float, maximum: float) -> None:
        from tqdm import tqdm

        bar = self.bars.get(node_id)
        if bar is None:
            class_type = self.prompt.get(node_id, {}).get("class_type", "node")
            bar = self.bars[node_id] = tqdm(total=maximum, desc=f"{class_type} #{node_id}", unit="step",
                                            file=sys.stderr, dynamic_ncols=True)
        bar.total = maximum
        bar.n = value
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


class _LocalSink:
    """The executor's event sink for a run in this process (also behind `PromptServer.instance` for custom nodes)."""

    client_id = "kiln-run"
    last_node_id: str | None = None
    last_prompt_id: str | None = None

    def __init__(self, progress: ConsoleProgress):
        self.progress = progress

    def send_sync(self, event: str | int, data: Any, sid: str | None = None) -> None:
        if isinstance(event, str) and isinstance(data, dict):
            self.progress.handle(event, data)

    def client_supports(self, sid: str | None, feature: str) -> bool:
        return False


# -- results ------------------------------------------------------------------------------------------------------

def saved_files(outputs: dict[str, Any]) -> list[dict[str, str]]:
    """The `{filename, subfolder, type}` records of every file the run's output nodes report."""
    files = []
    for node_output in outputs.values():
        for items in node_output.values():
            if isinstance(items, list):
                files += [item for item in items if isinstance(item, dict) and "filename" in item]
    return files


def run_error(messages: list) -> dict[str, Any]:
    """The data of the `execution_error` among a run's status messages ({} if none)."""
    return next((data for event, data in reversed(messages) if event == "execution_error"), {})


def describe_error(error: dict[str, Any]) -> str:
    node = error.get("node_id")
    where = f"node {node} ({error.get('node_type')})" if node is not None else "the executor"
    return f"{where} failed: {error.get('exception_type', 'Error')}: {error.get('exception_message', '')}".strip()


def describe_validation(error: dict[str, Any], node_errors: dict[str, Any], prompt: dict[str, Any]) -> str:
    lines = [f"the workflow is not valid: {error.get('message', 'invalid prompt')}"
             + (f" ({error['details']})" if error.get("details") else "")]
    for node_id, info in sorted(node_errors.items(), key=lambda item: node_order(item[0])):
        for problem in info.get("errors", []):
            details = f": {problem['details']}" if problem.get("details") else ""
            lines.append(f"  node {node_id} ({info.get('class_type') or prompt.get(node_id, {}).get('class_type')}): "
                         f"{problem.get('message')}{details}")
    return "\n".join(lines)


# -- the two ways to run ------------------------------------------------------------------------------------------

def run_here(prompt: dict[str, Any]) -> int:
    """Validate and execute `prompt` in this process; print the saved files. Returns the exit status."""
    import execution
    import folder_paths
    from comfy_execution.progress import install_progress_hook
    from comfy_execution.server_stand_in import install_server_stand_in

    prompt_id = str(uuid.uuid4())
    valid, error, outputs, node_errors = asyncio.run(execution.validate_prompt(prompt_id, prompt, None))
    if not valid:
        print(describe_validation(error, node_errors, prompt), file=sys.stderr)
        return 1
    progress = ConsoleProgress(prompt)
    sink = _LocalSink(progress)
    install_server_stand_in(sink)
    install_progress_hook(sink)
    executor = execution.PromptExecutor(sink)
    try:
        result = executor.execute(prompt, prompt_id, {"client_id": sink.client_id}, outputs)
    except KeyboardInterrupt:
        progress.close()
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        progress.close()
    if not result.success:
        print(describe_error(progress.error or run_error(result.status_messages)), file=sys.stderr)
        return 1
    folders = {"output": folder_paths.get_output_directory(), "temp": folder_paths.get_temp_directory(),
               "input": folder_paths.get_input_directory()}
    files = saved_files(result.history_result.get("outputs", {}))
    for item in files:
        folder = folders.get(item.get("type", "output"), folders["output"])
        print(os.path.join(folder, item.get("subfolder", ""), item["filename"]))
    if not files:
        print("the workflow ran; it saved no files", file=sys.stderr)
    return 0


async def _run_on_server(url: str, prompt: dict[str, Any], download_to: str | None, token: str | None) -> int:
    import aiohttp

    base = url.rstrip("/")
    client_id = uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    ws_url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + f"/ws?clientId={client_id}"
    if token:
        ws_url += f"&token={urllib.parse.quote(token)}"
    progress = ConsoleProgress(prompt)
    async with aiohttp.ClientSession(headers=headers) as session:
        try:
            ws = await session.ws_connect(ws_url)
        except aiohttp.ClientError as error:
            raise RunError(f"cannot reach the server at {base}: {error}") from None
        async with ws:
            async with session.post(f"{base}/prompt", json={"prompt": prompt, "client_id": client_id}) as answer:
                body = await answer.json(content_type=None)
            if answer.status != 200:
                error = body.get("error", {}) if isinstance(body, dict) else {}
                print(describe_validation(error if isinstance(error, dict) else {"message": str(error)},
                                          body.get("node_errors", {}) if isinstance(body, dict) else {}, prompt),
                      file=sys.stderr)
                return 1
            prompt_id = body["prompt_id"]
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue  # preview frames
                event = json.loads(message.data)
                data = event.get("data") or {}
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                progress.handle(event.get("type", ""), data)
                if event.get("type") == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                    break
                if event.get("type") in ("execution_error", "execution_interrupted"):
                    break
        progress.close()
        if progress.error or progress.interrupted:
            print(describe_error(progress.error) if progress.error else "interrupted on the server", file=sys.stderr)
            return 1
        async with session.get(f"{base}/history/{prompt_id}") as answer:
            history = (await answer.json()).get(prompt_id, {})
        files = saved_files(history.get("outputs", {}))
        for item in files:
            query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                            "type": item.get("type", "output")})
            view_url = f"{base}/view?{query}"
            if download_to is None:
                print(view_url)
                continue
            target = os.path.join(download_to, item.get("subfolder", ""), os.path.basename(item["filename"]))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            async with session.get(view_url) as answer:
                answer.raise_for_status()
                with open(target, "wb") as handle:
                    handle.write(await answer.read())
            print(target)
        if not files:
            print("the workflow ran; it saved no files", file=sys.stderr)
    return 0


def _convert_on_server(url: str, workflow: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The API prompt the server at `url` makes of a UI-format workflow (POST /api/workflow/convert)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{url.rstrip('/')}/api/workflow/convert", method="POST",
                                     data=json.dumps({"workflow": workflow}).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.load(answer)["prompt"]
    except urllib.error.HTTPError as error:
        try:
            details = json.load(error).get("error", {}).get("details", "")
        except (ValueError, AttributeError):
            details = ""
        raise RunError(f"the server cannot convert the workflow ({error.code}): {details or error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise RunError(f"cannot reach the server at {url}: {error}") from None


# -- entry point --------------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    """`argv` after the word `run`. Returns the exit status (0 ok, 1 the workflow failed, 2 bad input)."""
    from comfy.cli_args import args, parse_cli

    parser = argparse.ArgumentParser(prog="main.py run", usage=USAGE, description=__doc__.splitlines()[0],
                                     epilog="Any other flag is one of the server's (see python main.py --help).")
    parser.add_argument("workflow", help="a workflow: API or UI format (JSON), or a PNG/WebP image that embeds one")
    parser.add_argument("--set", action="append", default=[], metavar="NODE.INPUT=VALUE",
                        help="change one input before running (repeatable), e.g. --set 6.text=\"a red circle\"")
    parser.add_argument("--server", metavar="URL", help="queue the workflow on a running server instead")
    options, server_flags = parser.parse_known_args(argv)
    parse_cli(server_flags)
    try:
        if options.server:
            keys = getattr(args, "api_key", None) or []
            token = os.environ.get("KILN_API_KEY") or (keys[0] if isinstance(keys, list) and keys else keys or None)
            prompt = load_workflow(options.workflow,
                                   lambda workflow: _convert_on_server(options.server, workflow, token))
            apply_settings(prompt, options.set)
            return asyncio.run(_run_on_server(options.server, prompt, args.output_directory, token))
        import folder_paths
        import nodes
        from comfy_execution.node_info import RegisteredNodeInterfaces
        from comfy_execution.server_stand_in import install_server_stand_in
        from comfy_execution.workflow_format import convert_workflow

        folder_paths.apply_cli_args(args)
        install_server_stand_in()  # no HTTP server here: what custom nodes see as PromptServer.instance
        nodes.init_extra_nodes(init_custom_nodes=True)
        prompt = load_workflow(options.workflow,
                               lambda workflow: convert_workflow(workflow, RegisteredNodeInterfaces()))
        apply_settings(prompt, options.set, _declared_inputs)
        return run_here(prompt)
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
