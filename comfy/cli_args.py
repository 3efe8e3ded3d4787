"""Command-line flags, with ComfyUI's names and defaults.

`args` is the one parsed namespace every module reads (`from comfy.cli_args import args`). It holds the defaults
until `parse_cli()` fills it in place from the real command line, so modules that imported it early see the
final values too.
"""

from __future__ import annotations

import argparse
import enum
import os


class LatentPreviewMethod(str, enum.Enum):
    NoPreviews = "none"
    Auto = "auto"
    Latent2RGB = "latent2rgb"
    TAESD = "taesd"


def _frontend_build(value: str) -> str:
    """--front-end-root: a folder holding a frontend build's index.html."""
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value} is not a folder")
    if not os.path.isfile(os.path.join(value, "index.html")):
        raise argparse.ArgumentTypeError(f"{value} has no index.html; name the folder of a frontend build "
                                         "(the one holding index.html)")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Kiln: a ComfyUI-compatible node-graph server.")
    parser.add_argument("--listen", type=str, default="127.0.0.1", metavar="IP", nargs="?", const="0.0.0.0,::",
                        help="Address(es) to listen on, comma-separated. Bare flag: all interfaces.")
    parser.add_argument("--port", type=int, default=8188, help="Port to listen on.")
    parser.add_argument("--tls-keyfile", type=str, help="TLS key file (with --tls-certfile, serves HTTPS).")
    parser.add_argument("--tls-certfile", type=str, help="TLS certificate file.")
    parser.add_argument("--enable-cors-header", type=str, default=None, metavar="ORIGIN", nargs="?", const="*",
                        help="Answer CORS with this origin (bare flag: '*'); disables the host/origin check.")
    parser.add_argument("--max-upload-size", type=float, default=100, help="Largest request body, in MB.")
    parser.add_argument("--base-directory", type=str, default=None,
                        help="Base folder for models, custom_nodes, input, output, temp and user.")
    parser.add_argument("--extra-model-paths-config", type=str, default=None, metavar="PATH", nargs="+",
                        action="append", help="Extra extra_model_paths.yaml files (repeatable).")
    parser.add_argument("--output-directory", type=str, default=None, help="Output folder.")
    parser.add_argument("--temp-directory", type=str, default=None, help="Parent of the temp folder.")
    parser.add_argument("--input-directory", type=str, default=None, help="Input folder.")
    parser.add_argument("--user-directory", type=str, default=None, help="User data folder.")
    parser.add_argument("--auto-launch", action="store_true", help="Open the web page in the default browser.")
    parser.add_argument("--disable-auto-launch", action="store_true", help="Do not open a browser.")
    parser.add_argument("--cuda-device", type=int, default=None, metavar="DEVICE_ID", help="CUDA device to use.")
    parser.add_argument("--default-device", type=int, default=None, metavar="DEFAULT_DEVICE_ID")

    vram = parser.add_mutually_exclusive_group()
    vram.add_argument("--gpu-only", action="store_true")
    vram.add_argument("--highvram", action="store_true")
    vram.add_argument("--normalvram", action="store_true")
    vram.add_argument("--lowvram", action="store_true")
    vram.add_argument("--novram", action="store_true")
    vram.add_argument("--cpu", action="store_true", help="Run everything on the CPU.")

    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--force-fp32", action="store_true", help="Run every model in fp32.")
    precision.add_argument("--force-fp16", action="store_true", help="Run every model in fp16.")
    unet_dtype = parser.add_mutually_exclusive_group()
    unet_dtype.add_argument("--fp32-unet", action="store_true", help="Diffusion model weights in fp32.")
    unet_dtype.add_argument("--fp64-unet", action="store_true", help="Diffusion model weights in fp64.")
    unet_dtype.add_argument("--bf16-unet", action="store_true", help="Diffusion model weights in bf16.")
    unet_dtype.add_argument("--fp16-unet", action="store_true", help="Diffusion model weights in fp16.")
    vae_dtype = parser.add_mutually_exclusive_group()
    vae_dtype.add_argument("--fp16-vae", action="store_true", help="VAE in fp16 (may give black images).")
    vae_dtype.add_argument("--fp32-vae", action="store_true", help="VAE in fp32.")
    vae_dtype.add_argument("--bf16-vae", action="store_true", help="VAE in bf16.")
    parser.add_argument("--cpu-vae", action="store_true", help="Run the VAE on the CPU.")
    text_dtype = parser.add_mutually_exclusive_group()
    text_dtype.add_argument("--fp16-text-enc", action="store_true", help="Text encoder weights in fp16.")
    text_dtype.add_argument("--fp32-text-enc", action="store_true", help="Text encoder weights in fp32.")
    text_dtype.add_argument("--bf16-text-enc", action="store_true", help="Text encoder weights in bf16.")

    parser.add_argument("--preview-method", type=LatentPreviewMethod, default=LatentPreviewMethod.NoPreviews,
                        choices=list(LatentPreviewMethod), help="How sampler previews are made.")
    parser.add_argument("--preview-size", type=int, default=512, help="Largest side of a preview image.")

    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-classic", action="store_true", help="Keep only what the current prompt can reuse.")
    cache.add_argument("--cache-lru", type=int, default=0, help="Keep up to N node results across prompts.")
    cache.add_argument("--cache-none", action="store_true", help="Reuse nothing across prompts (least RAM).")
    cache.add_argument("--cache-ram", nargs="?", const=4.0, type=float, default=0, metavar="GB",
                       help="Keep results until free RAM falls below GB of headroom (bare flag: 4 GB).")

    parser.add_argument("--default-hashing-function", type=str, default="sha256",
                        choices=["md5", "sha1", "sha256", "sha512"], help="Hash used to spot duplicate uploads.")
    parser.add_argument("--disable-smart-memory", action="store_true")
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--dont-print-server", action="store_true", help="Log less about the HTTP server.")
    parser.add_argument("--quick-test-for-ci", action="store_true", help="Start up, load nodes, then exit.")
    parser.add_argument("--windows-standalone-build", action="store_true")
    parser.add_argument("--disable-metadata", action="store_true", help="Save no prompt/workflow in files.")
    parser.add_argument("--disable-all-custom-nodes", action="store_true", help="Load no custom nodes.")
    parser.add_argument("--whitelist-custom-nodes", type=str, nargs="+", default=[],
                        help="With --disable-all-custom-nodes, still load these custom node folders.")
    parser.add_argument("--disable-api-nodes", action="store_true")
    parser.add_argument("--multi-user", action="store_true", help="Per-user settings, chosen by Comfy-User.")
    parser.add_argument("--verbose", default="INFO", const="DEBUG", nargs="?",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], help="Log level.")
    parser.add_argument("--log-stdout", action="store_true", help="Log to stdout instead of stderr.")
    parser.add_argument("--enable-compress-response-body", action="store_true")
    parser.add_argument("--database-url", type=str, default=None)

    # Web frontend
    parser.add_argument("--front-end-version", type=str, default="comfyanonymous/ComfyUI@latest",
                        help="Accepted for compatibility and ignored: Kiln serves the installed "
                             "comfyui-frontend-package (or --front-end-root) and downloads nothing.")
    parser.add_argument("--front-end-root", type=_frontend_build, default=None, metavar="DIR",
                        help="Serve the web frontend from DIR (a build: the folder holding index.html) instead of "
                             "the installed comfyui-frontend-package.")

    # Durable store and job API
    parser.add_argument("--store", type=str, default=None, metavar="PATH",
                        help="The SQLite job store (queue and history); default <user directory>/kiln.db. "
                             "--database-url sqlite:///PATH names it too.")
    parser.add_argument("--store-recover", action="store_true",
                        help="If the job store is damaged or not a database, move it aside (to "
                             "<store>.damaged-<time>) and start with an empty queue and history.")
    parser.add_argument("--default-workflow", type=str, default=None, metavar="NAME",
                        help="The workflow POST /api/generate runs when the request names none: a saved workflow "
                             "of the server's workflows/ folder or the user's library (default demo_txt2img, the "
                             "embedded demo model's text-to-image).")
    parser.add_argument("--webhook-secret", type=str, default=None, metavar="SECRET",
                        help="Sign webhook deliveries with this secret (default: one made once and kept in the "
                             "user directory as kiln_webhook_secret).")
    parser.add_argument("--webhook-allow-private", action="store_true",
                        help="Let prompts name webhooks on private, loopback and link-local addresses.")
    parser.add_argument("--store-sync", type=str, default="full", choices=["full", "normal"],
                        help="full: every write is synced to disk before the server answers (safe against power "
                             "loss); normal: about 3x faster writes, safe against the process dying, not the OS.")
    parser.add_argument("--history-max-items", type=int, default=10000, metavar="N",
                        help="Keep at most N finished jobs in the history (oldest dropped first).")
    parser.add_argument("--history-max-age-days", type=float, default=0, metavar="DAYS",
                        help="Drop finished jobs older than DAYS from the history (0: keep them).")
    parser.add_argument("--history-delete-outputs", action="store_true",
                        help="When the history caps drop a job, delete its output files too.")
    parser.add_argument("--max-queue", type=int, default=0, metavar="N",
                        help="Refuse new prompts with 429 while N are pending (0: no limit).")
    parser.add_argument("--shutdown-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="On SIGINT/SIGTERM, wait this long for the running prompt to stop before exiting.")

    # Many machines (comfy_execution/distributed; needs `pip install ".[ray]"`)
    parser.add_argument("--ray", type=str, default=None, metavar="ADDRESS",
                        help="Run prompts on Ray worker actors: local:N starts a private Ray instance on this "
                             "machine with N workers; HOST:PORT or auto joins a cluster whose workers were "
                             "started with `python main.py worker --ray ADDRESS`.")
    parser.add_argument("--ray-max-attempts", type=int, default=3, metavar="N",
                        help="How many workers may die under one prompt before it fails.")
    parser.add_argument("--ray-affinity-wait", type=float, default=30.0, metavar="SECONDS",
                        help="How long a prompt waits for the busy worker that holds its models before another "
                             "worker loads them.")
    parser.add_argument("--ray-object-store-mb", type=int, default=256, metavar="MB",
                        help="Object store size of a local Ray instance (--ray local:N).")

    # Access and request limits
    parser.add_argument("--api-key", type=str, action="append", default=None, metavar="KEY",
                        help="Require 'Authorization: Bearer KEY' (or ?token=KEY) on every route but /health "
                             "(repeatable: any of the keys is accepted).")
    parser.add_argument("--api-keys-file", type=str, default=None, metavar="PATH",
                        help="A file of accepted API keys, one per line ('#' comments and blank lines skipped).")
    parser.add_argument("--max-json-depth", type=int, default=64, metavar="N",
                        help="Deepest nesting of arrays and objects accepted in a JSON request body.")
    parser.add_argument("--max-prompt-nodes", type=int, default=100000, metavar="N",
                        help="Most nodes accepted in one prompt.")
    return parser


parser = _build_parser()
args = parser.parse_args([])


def parse_cli(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse `argv` (default: sys.argv[1:]) into the shared `args` namespace and return it."""
    parsed = parser.parse_args(argv)
    vars(args).clear()
    vars(args).update(vars(parsed))
    return args


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's command line is built without these argument groups"

DEFAULT_VERSION_STRING = "comfyanonymous/ComfyUI@latest"
EnumAction = unsupported_class(__name__, 'EnumAction', '**kwargs', _REASON)
PerformanceFeature = unsupported_class(__name__, 'PerformanceFeature', None, _REASON)
attn_group = UnsupportedValue(__name__, 'attn_group', _REASON)
cache_group = UnsupportedValue(__name__, 'cache_group', _REASON)
cm_group = UnsupportedValue(__name__, 'cm_group', _REASON)
database_default_path = UnsupportedValue(__name__, 'database_default_path', _REASON)
fp_group = UnsupportedValue(__name__, 'fp_group', _REASON)
fpte_group = UnsupportedValue(__name__, 'fpte_group', _REASON)
fpunet_group = UnsupportedValue(__name__, 'fpunet_group', _REASON)
fpvae_group = UnsupportedValue(__name__, 'fpvae_group', _REASON)
is_valid_directory = unsupported_function(__name__, 'is_valid_directory', 'path', _REASON)
upcast = UnsupportedValue(__name__, 'upcast', _REASON)
vram_group = UnsupportedValue(__name__, 'vram_group', _REASON)
