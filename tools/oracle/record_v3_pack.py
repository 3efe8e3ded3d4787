"""Record ComfyUI's answers for the V3 test pack's prompts (tests/fixtures/comfyui/v3_pack/cases.py).

Start the oracle (see ../shared/reference/oracle.md) with the pack in a custom_nodes folder, e.g. an
extra_model_paths yaml with `custom_nodes: <folder holding a kiln-test-v3 link to tests/e2e/custom_nodes/kiln-test-v3>`,
then run, with Kiln's Python (numpy and Pillow):

    .venv/bin/python tools/oracle/record_v3_pack.py --url http://127.0.0.1:8311 [--out tests/fixtures/comfyui/v3_pack]

It writes `object_info.json` (the /object_info entries of the pack's nodes) and `recorded.json` (per case: the
HTTP status of POST /prompt and its error body, or the run's status, its node outputs, the execution_error
fields, and for each previewed image its size, pixel values and PNG text chunks).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "comfyui" / "v3_pack"
ERROR_FIELDS = ("node_id", "node_type", "exception_message", "exception_type")


def _load_cases(folder: Path):
    spec = importlib.util.spec_from_file_location("kiln_v3_pack_cases", folder / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _request(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def run_case(url: str, case: dict, describe_image) -> dict:
    """POST the case's prompt, wait for its history entry, and keep what the fixture compares."""
    status, body = _request(f"{url}/prompt", {"prompt": case["prompt"], "client_id": uuid.uuid4().hex,
                                              "extra_data": case["extra_data"]})
    if status != 200:
        return {"http_status": status, "error": json.loads(body)}
    prompt_id = json.loads(body)["prompt_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        history = json.loads(_request(f"{url}/history/{prompt_id}")[1])
        if prompt_id in history:
            break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"case {case['id']} did not finish")
    entry = history[prompt_id]
    errors = [{field: data.get(field) for field in ERROR_FIELDS}
              for kind, data in entry["status"]["messages"] if kind == "execution_error"]
    images = {}
    for node_id, output in entry["outputs"].items():
        for image in output.get("images", []):
            query = urllib.parse.urlencode(image)
            images.setdefault(node_id, []).append(describe_image(_request(f"{url}/view?{query}")[1]))
    return {"http_status": 200, "status_str": entry["status"]["status_str"],
            "completed": entry["status"]["completed"], "outputs": entry["outputs"], "errors": errors,
            "images": images}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the oracle's base URL")
    parser.add_argument("--out", type=Path, default=FIXTURE)
    options = parser.parse_args()
    url = options.url.rstrip("/")
    object_info = json.loads(_request(f"{url}/object_info")[1])
    pack_info = {name: info for name, info in object_info.items() if name.startswith("KilnTestV3")}
    (options.out / "object_info.json").write_text(json.dumps(pack_info, indent=1, sort_keys=False) + "\n")
    cases = _load_cases(options.out)
    recorded = {case["id"]: run_case(url, case, cases.describe_image) for case in cases.CASES}
    (options.out / "recorded.json").write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"recorded {len(pack_info)} node entries and {len(recorded)} cases into {options.out}")


if __name__ == "__main__":
    main()
