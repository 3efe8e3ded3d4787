"""Rebuild `comfy/text_encoders/t5_tokenizer/` (Flux's T5 tokenizer.json and its LICENSE) from an MIT-licensed sdist.

The T5 v1.1 tokenizer ComfyUI ships has no licence file of its own, so Kiln takes the same vocabulary from the
MIT-licensed PyPI sdist of stable-diffusion-cpp-python 0.4.7, which embeds it as a C byte array:

    pip download --no-deps --no-binary :all: stable-diffusion-cpp-python==0.4.7
    python tools/extract_t5_tokenizer.py stable_diffusion_cpp_python-0.4.7.tar.gz

The script checks the sdist's and the embedded file's sha256, applies the five settings that make the
`tokenizers` library tokenize exactly like ComfyUI (the vocabulary, scores and special tokens are untouched),
checks that the result is byte-identical to ComfyUI's tokenizer.json, and writes it together with the two MIT
licences found in the sdist. Nothing is downloaded here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tarfile
from pathlib import Path

SDIST_SHA256 = "998d1957260dd5ae4e18a8acc0c14b0a8757aaa9f96515197b6d5bbf46df9282"
EMBEDDED_SHA256 = "fe2ebbbbde2985be723e0ce18217853e4020c5e9d35bd07be2c27ab9d3ead57a"
# ComfyUI's comfy/text_encoders/t5_tokenizer/tokenizer.json; the patched file must equal it byte for byte.
PATCHED_SHA256 = "6cd1badb7467cdab971403bbeb1945070ca385652385a2b6549f672b08089dfc"

ROOT = "stable_diffusion_cpp_python-0.4.7"
HEADER_PATH = f"{ROOT}/vendor/stable-diffusion.cpp/src/tokenizers/vocab/clip_t5.hpp"
ARRAY_NAME = "t5_tokenizer_json_str"
# (path in the sdist, heading in our LICENSE file)
LICENCES = (
    (f"{ROOT}/LICENSE", "stable-diffusion-cpp-python 0.4.7 (LICENSE in the PyPI sdist):"),
    (f"{ROOT}/vendor/stable-diffusion.cpp/LICENSE",
     "stable-diffusion.cpp, vendored in that sdist (vendor/stable-diffusion.cpp/LICENSE):"),
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "comfy" / "text_encoders" / "t5_tokenizer"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_member(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    if handle is None:
        raise SystemExit(f"{name} is not a regular file in the sdist")
    return handle.read()


def embedded_bytes(header: bytes, array_name: str) -> bytes:
    """The bytes of `static const unsigned char <array_name>[] = {0x.., ...};` in a C header."""
    start = header.find(f"unsigned char {array_name}[] = {{".encode())
    if start < 0:
        raise SystemExit(f"array {array_name} not found in {HEADER_PATH}")
    end = header.index(b"};", start)
    body = header[header.index(b"{", start) + 1 : end]
    return bytes.fromhex("".join(digits.decode() for digits in re.findall(rb"0x([0-9a-fA-F]{2})", body)))


def patch_settings(tokenizer: dict) -> dict:
    """Apply the five setting changes that make `tokenizers` match ComfyUI's T5TokenizerFast.

    1. strip trailing whitespace right after the precompiled normalizer;
    2. a run of spaces collapses to `▁` (not to a plain space);
    3. the pre-tokenizer prepends `▁` to the first word only (so special tokens get no extra `▁`);
    4. the decoder removes a leading `▁` always;
    5. the Unigram model has no byte fallback (unknown characters give `<unk>`, id 2).
    New keys go last, which is where ComfyUI's file has them.
    """
    normalizers = tokenizer["normalizer"]["normalizers"]
    precompiled = [entry["type"] for entry in normalizers].index("Precompiled")
    normalizers.insert(precompiled + 1, {"type": "Strip", "strip_left": False, "strip_right": True})
    runs_of_spaces = [entry for entry in normalizers
                      if entry["type"] == "Replace" and entry["pattern"] == {"Regex": " {2,}"}]
    if len(runs_of_spaces) != 1:
        raise SystemExit("expected exactly one Replace normalizer for ' {2,}'")
    runs_of_spaces[0]["content"] = "\u2581"
    tokenizer["pre_tokenizer"]["prepend_scheme"] = "first"
    tokenizer["decoder"]["prepend_scheme"] = "always"
    tokenizer["model"]["byte_fallback"] = False
    return tokenizer


def extract(sdist: Path, output: Path) -> None:
    sdist_bytes = sdist.read_bytes()
    if sha256(sdist_bytes) != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {sha256(sdist_bytes)}, expected {SDIST_SHA256} "
                         "(stable_diffusion_cpp_python-0.4.7.tar.gz from PyPI)")
    with tarfile.open(sdist, "r:gz") as archive:
        header = read_member(archive, HEADER_PATH)
        licences = [(heading, read_member(archive, path).decode("utf-8").strip()) for path, heading in LICENCES]

    original = embedded_bytes(header, ARRAY_NAME)
    if sha256(original) != EMBEDDED_SHA256:
        raise SystemExit(f"embedded tokenizer.json: sha256 {sha256(original)}, expected {EMBEDDED_SHA256}")
    # The embedded file is json.dumps(indent=2, ensure_ascii=False) output, so the same call keeps its layout.
    patched = json.dumps(patch_settings(json.loads(original)), indent=2, ensure_ascii=False).encode("utf-8")
    if sha256(patched) != PATCHED_SHA256:
        raise SystemExit(f"patched tokenizer.json: sha256 {sha256(patched)}, expected {PATCHED_SHA256}")

    output.mkdir(parents=True, exist_ok=True)
    (output / "tokenizer.json").write_bytes(patched)
    text = "\n\n".join(f"{heading}\n\n{licence}" for heading, licence in licences)
    (output / "LICENSE").write_text(
        "The tokenizer.json in this folder comes from the following MIT-licensed projects.\n\n" + text + "\n",
        encoding="utf-8")
    print(f"wrote {output / 'tokenizer.json'} ({len(patched):,} bytes, sha256 {sha256(patched)})")
    print(f"wrote {output / 'LICENSE'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sdist", type=Path, help="stable_diffusion_cpp_python-0.4.7.tar.gz")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"folder for tokenizer.json and LICENSE (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    extract(args.sdist, args.output)


if __name__ == "__main__":
    main(sys.argv[1:])
