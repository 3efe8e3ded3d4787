"""Audio nodes: load, record, save (FLAC, MP3, Opus), preview, trim, split, concatenate, merge, change volume and
make silence; decoding and encoding through PyAV.

AUDIO is {"waveform": float32 [B, C, T] in -1..1, "sample_rate": int}. Resampling is the band-limited sinc
interpolation with a Hann window that `torchaudio.functional.resample` does by default (6 zero crossings, 0.99
roll-off), computed here so that Kiln needs no torchaudio.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import random
from typing import Any

import av
import torch

import folder_paths
import node_helpers
from comfy.cli_args import args
from comfy.file_writing import write_bytes_whole

OPUS_RATES = [8000, 12000, 16000, 24000, 48000]


# --- resampling ---------------------------------------------------------------------------------------------------


def _sinc_resample_kernel(orig_freq: int, new_freq: int, dtype: torch.dtype, device: torch.device,
                          zero_crossings: int = 6, rolloff: float = 0.99) -> tuple[torch.Tensor, int]:
    """The [new_freq, 1, 2·width + orig_freq] polyphase filter bank (frequencies already divided by their gcd)
    and its half-width in input samples."""
    cutoff = min(orig_freq, new_freq) * rolloff  # low-pass below both Nyquist rates
    width = math.ceil(zero_crossings * orig_freq / cutoff)
    # Output phase j (of new_freq) reads input samples at offsets -width .. width + orig_freq - 1.
    offsets = torch.arange(-width, width + orig_freq, dtype=dtype, device=device)[None, None] / orig_freq
    phases = torch.arange(0, -new_freq, -1, dtype=dtype, device=device)[:, None, None] / new_freq
    t = ((phases + offsets) * cutoff).clamp_(-zero_crossings, zero_crossings)
    window = torch.cos(t * math.pi / zero_crossings / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    return sinc * (window * (cutoff / orig_freq)), width


def resample(waveform: torch.Tensor, orig_freq: int, new_freq: int) -> torch.Tensor:
    """`waveform` [..., T] (float) from orig_freq to new_freq Hz; ceil(T · new / orig) samples out."""
    if orig_freq <= 0 or new_freq <= 0:
        raise ValueError(f"Sample rates must be positive, got {orig_freq} and {new_freq}")
    if orig_freq == new_freq:
        return waveform
    divisor = math.gcd(int(orig_freq), int(new_freq))
    orig, new = int(orig_freq) // divisor, int(new_freq) // divisor
    kernel, width = _sinc_resample_kernel(orig, new, waveform.dtype, waveform.device)
    shape = waveform.shape
    signals = waveform.reshape(-1, shape[-1])
    length = signals.shape[-1]
    padded = torch.nn.functional.pad(signals, (width, width + orig))
    phases = torch.nn.functional.conv1d(padded[:, None], kernel, stride=orig)
    interleaved = phases.transpose(1, 2).reshape(signals.shape[0], -1)
    target_length = int(torch.ceil(torch.as_tensor(new * length / orig)).long())
    return interleaved[..., :target_length].reshape(shape[:-1] + (-1,))


def match_audio_sample_rates(waveform_1: torch.Tensor, sample_rate_1: int, waveform_2: torch.Tensor,
                             sample_rate_2: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Both waveforms at the higher of the two rates."""
    if sample_rate_1 == sample_rate_2:
        return waveform_1, waveform_2, sample_rate_1
    if sample_rate_1 > sample_rate_2:
        logging.info("Resampling audio2 from %sHz to %sHz for merging.", sample_rate_2, sample_rate_1)
        return waveform_1, resample(waveform_2, sample_rate_2, sample_rate_1), sample_rate_1
    logging.info("Resampling audio1 from %sHz to %sHz for merging.", sample_rate_1, sample_rate_2)
    return resample(waveform_1, sample_rate_1, sample_rate_2), waveform_2, sample_rate_2


# --- decoding and encoding ----------------------------------------------------------------------------------------


def f32_pcm(wav: torch.Tensor) -> torch.Tensor:
    """Samples as float32 in -1..1 (16- and 32-bit integer PCM scaled down)."""
    if wav.dtype.is_floating_point:
        return wav
    if wav.dtype == torch.int16:
        return wav.float() / (2 ** 15)
    if wav.dtype == torch.int32:
        return wav.float() / (2 ** 31)
    raise ValueError(f"Unsupported wav dtype: {wav.dtype}")


def load(filepath: str) -> tuple[torch.Tensor, int]:
    """The first audio stream of a file as ([C, T] float32, sample rate)."""
    with av.open(filepath) as container:
        if not container.streams.audio:
            raise ValueError("No audio stream found in the file.")
        stream = container.streams.audio[0]
        sample_rate = stream.codec_context.sample_rate
        channels = stream.channels
        frames = []
        for frame in container.decode(streams=stream.index):
            samples = torch.from_numpy(frame.to_ndarray())
            if samples.shape[0] != channels:  # packed formats come as [1, T·C]
                samples = samples.view(-1, channels).t()
            frames.append(samples)
        if not frames:
            raise ValueError("No audio frames decoded.")
        return f32_pcm(torch.cat(frames, dim=1)), sample_rate


def _load_audio_input(name: str, node: str) -> dict:
    path = folder_paths.get_annotated_filepath(name)
    try:
        waveform, sample_rate = load(path)
    except (av.error.FFmpegError, ValueError) as error:
        raise ValueError(f"{node}: cannot read audio from {name!r}: {error}") from error
    return {"waveform": waveform.unsqueeze(0), "sample_rate": sample_rate}


def _opus_rate(sample_rate: int) -> int:
    """The Opus rate a sample rate is encoded at: itself if Opus has it, else the next higher (48 kHz at most)."""
    if sample_rate > 48000:
        return 48000
    if sample_rate in OPUS_RATES:
        return sample_rate
    return next((rate for rate in OPUS_RATES if rate > sample_rate), 48000)


def _add_stream(container: Any, file_format: str, sample_rate: int, layout: str, quality: str) -> Any:
    if file_format == "opus":
        stream = container.add_stream("libopus", rate=sample_rate, layout=layout)
        bit_rates = {"64k": 64000, "96k": 96000, "128k": 128000, "192k": 192000, "320k": 320000}
        if quality in bit_rates:
            stream.bit_rate = bit_rates[quality]
    elif file_format == "mp3":
        stream = container.add_stream("libmp3lame", rate=sample_rate, layout=layout)
        if quality == "V0":
            stream.codec_context.qscale = 1  # variable bit rate, best quality
        elif quality in ("128k", "320k"):
            stream.bit_rate = {"128k": 128000, "320k": 320000}[quality]
    else:
        stream = container.add_stream("flac", rate=sample_rate, layout=layout)
    return stream


def encode_audio(waveform: torch.Tensor, sample_rate: int, file_format: str, metadata: dict[str, str],
                 quality: str = "128k") -> bytes:
    """One waveform [C, T] (mono or stereo) as a FLAC, MP3 or Opus file's bytes, with container tags."""
    buffer = io.BytesIO()
    container = av.open(buffer, mode="w", format=file_format)
    for key, value in metadata.items():
        container.metadata[key] = value
    layout = "mono" if waveform.shape[0] == 1 else "stereo"
    stream = _add_stream(container, file_format, sample_rate, layout, quality)
    frame = av.AudioFrame.from_ndarray(waveform.movedim(0, 1).reshape(1, -1).float().numpy(), format="flt",
                                       layout=layout)
    frame.sample_rate = sample_rate
    frame.pts = 0
    container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return buffer.getvalue()


def audio_tags(prompt: Any, extra_pnginfo: dict | None) -> dict[str, str]:
    """The container tags of a saved audio file: the prompt and the workflow as JSON (none with
    --disable-metadata)."""
    tags: dict[str, str] = {}
    if not args.disable_metadata:
        if prompt is not None:
            tags["prompt"] = json.dumps(prompt)
        for key, value in (extra_pnginfo or {}).items():
            tags[key] = json.dumps(value)
    return tags


def write_audio_batch(audio: dict, folder: str, filename: str, counter: int, file_format: str,
                      tags: dict[str, str], quality: str = "128k") -> list[str]:
    """Each waveform of `audio["waveform"]` [B, C, T] as `<filename>_<counter:05>_.<format>` in `folder`, whole or
    not at all (Opus resampled to a rate it supports); the file names, in batch order."""
    names = []
    for batch_number, waveform in enumerate(audio["waveform"].cpu()):
        name = f"{filename.replace('%batch_num%', str(batch_number))}_{counter + batch_number:05}_.{file_format}"
        sample_rate = audio["sample_rate"]
        if file_format == "opus":
            sample_rate = _opus_rate(sample_rate)
            if sample_rate != audio["sample_rate"]:
                waveform = resample(waveform, audio["sample_rate"], sample_rate)
        write_bytes_whole(os.path.join(folder, name), encode_audio(waveform, sample_rate, file_format, tags, quality))
        names.append(name)
    return names


def save_audio(self, audio: dict, filename_prefix: str = "ComfyUI", format: str = "flac", prompt: Any = None,
               extra_pnginfo: dict | None = None, quality: str = "128k") -> dict:
    """Write each waveform of the batch as one file; the prompt and workflow become container tags (JSON).
    `self` is the saving node (its output_dir, type and prefix_append)."""
    full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
        filename_prefix + self.prefix_append, self.output_dir)
    names = write_audio_batch(audio, full_output_folder, filename, counter, format,
                              audio_tags(prompt, extra_pnginfo), quality)
    return {"ui": {"audio": [{"filename": name, "subfolder": subfolder, "type": self.type} for name in names]}}


# --- nodes --------------------------------------------------------------------------------------------------------

_HIDDEN = {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}


class SaveAudio(node_helpers.SavesToOutputFolder):
    """Save audio as FLAC in the output folder."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO",), "filename_prefix": ("STRING", {"default": "audio/ComfyUI"})},
                "hidden": dict(_HIDDEN)}

    RETURN_TYPES = ()
    FUNCTION = "save_flac"
    OUTPUT_NODE = True
    CATEGORY = "audio"

    def save_flac(self, audio: dict, filename_prefix: str = "ComfyUI", format: str = "flac", prompt: Any = None,
                  extra_pnginfo: dict | None = None) -> dict:
        return save_audio(self, audio, filename_prefix, format, prompt, extra_pnginfo)


class SaveAudioMP3(node_helpers.SavesToOutputFolder):
    """Save audio as MP3 (V0 variable bit rate, or 128k / 320k constant)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO",), "filename_prefix": ("STRING", {"default": "audio/ComfyUI"}),
                             "quality": (["V0", "128k", "320k"], {"default": "V0"})},
                "hidden": dict(_HIDDEN)}

    RETURN_TYPES = ()
    FUNCTION = "save_mp3"
    OUTPUT_NODE = True
    CATEGORY = "audio"

    def save_mp3(self, audio: dict, filename_prefix: str = "ComfyUI", format: str = "mp3", prompt: Any = None,
                 extra_pnginfo: dict | None = None, quality: str = "128k") -> dict:
        return save_audio(self, audio, filename_prefix, format, prompt, extra_pnginfo, quality)


class SaveAudioOpus(node_helpers.SavesToOutputFolder):
    """Save audio as Opus (resampled up to the next rate Opus has, at most 48 kHz)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO",), "filename_prefix": ("STRING", {"default": "audio/ComfyUI"}),
                             "quality": (["64k", "96k", "128k", "192k", "320k"], {"default": "128k"})},
                "hidden": dict(_HIDDEN)}

    RETURN_TYPES = ()
    FUNCTION = "save_opus"
    OUTPUT_NODE = True
    CATEGORY = "audio"

    def save_opus(self, audio: dict, filename_prefix: str = "ComfyUI", format: str = "opus", prompt: Any = None,
                  extra_pnginfo: dict | None = None, quality: str = "V3") -> dict:
        return save_audio(self, audio, filename_prefix, format, prompt, extra_pnginfo, quality)


class PreviewAudio(SaveAudio):
    """Like SaveAudio, into the temp folder with a random name suffix."""

    def __init__(self):
        self.output_dir = folder_paths.get_temp_directory()
        self.type = "temp"
        self.prefix_append = "_temp_" + "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO",)}, "hidden": dict(_HIDDEN)}


class LoadAudio:
    """Load the first audio stream of an audio or video file from the input folder."""

    @classmethod
    def INPUT_TYPES(cls):
        files = folder_paths.filter_files_content_types(node_helpers.list_input_files(), ["audio", "video"])
        return {"required": {"audio": (sorted(files), {"audio_upload": True})}}

    CATEGORY = "audio"
    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "load"

    def load(self, audio: str) -> tuple[dict]:
        return (_load_audio_input(audio, "LoadAudio"),)

    @classmethod
    def IS_CHANGED(cls, audio: str) -> str:
        return node_helpers.file_sha256(folder_paths.get_annotated_filepath(audio))

    @classmethod
    def VALIDATE_INPUTS(cls, audio: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(audio):
            return f"Invalid audio file: {audio}"
        return True


class RecordAudio:
    """The frontend's recorder widget uploads the recording; this loads it like LoadAudio."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO_RECORD", {})}}

    CATEGORY = "audio"
    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "load"

    def load(self, audio: str) -> tuple[dict]:
        return (_load_audio_input(audio, "RecordAudio"),)


class TrimAudioDuration:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "audio": ("AUDIO",),
            "start_index": ("FLOAT", {
                "default": 0.0, "min": -0xffffffffffffffff, "max": 0xffffffffffffffff, "step": 0.01,
                "tooltip": "Start time in seconds, can be negative to count from the end (supports sub-seconds)."}),
            "duration": ("FLOAT", {"default": 60.0, "min": 0.0, "step": 0.01, "tooltip": "Duration in seconds"}),
        }}

    FUNCTION = "trim"
    RETURN_TYPES = ("AUDIO",)
    CATEGORY = "audio"
    DESCRIPTION = "Trim audio tensor into chosen time range."

    def trim(self, audio: dict, start_index: float, duration: float) -> tuple[dict]:
        waveform, sample_rate = audio["waveform"], audio["sample_rate"]
        length = waveform.shape[-1]
        start = int(round(start_index * sample_rate))
        if start_index < 0:
            start += length
        start = max(0, min(start, length - 1))
        end = max(0, min(start + int(round(duration * sample_rate)), length))
        if start >= end:
            raise ValueError("AudioTrim: Start time must be less than end time and be within the audio length.")
        return ({"waveform": waveform[..., start:end], "sample_rate": sample_rate},)


class SplitAudioChannels:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"audio": ("AUDIO",)}}

    RETURN_TYPES = ("AUDIO", "AUDIO")
    RETURN_NAMES = ("left", "right")
    FUNCTION = "separate"
    CATEGORY = "audio"
    DESCRIPTION = "Separates the audio into left and right channels."

    def separate(self, audio: dict) -> tuple[dict, dict]:
        waveform, sample_rate = audio["waveform"], audio["sample_rate"]
        if waveform.shape[1] != 2:
            raise ValueError("AudioSplit: Input audio has only one channel.")
        return ({"waveform": waveform[..., 0:1, :], "sample_rate": sample_rate},
                {"waveform": waveform[..., 1:2, :], "sample_rate": sample_rate})


def _as_stereo(waveform: torch.Tensor, name: str) -> torch.Tensor:
    if waveform.shape[1] == 1:
        logging.info("AudioConcat: Converted mono %s to stereo by duplicating the channel.", name)
        return waveform.repeat(1, 2, 1)
    return waveform


class AudioConcat:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "audio1": ("AUDIO",),
            "audio2": ("AUDIO",),
            "direction": (["after", "before"], {"default": "after",
                                                "tooltip": "Whether to append audio2 after or before audio1."}),
        }}

    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "concat"
    CATEGORY = "audio"
    DESCRIPTION = "Concatenates the audio1 to audio2 in the specified direction."

    def concat(self, audio1: dict, audio2: dict, direction: str) -> tuple[dict]:
        first, second, sample_rate = match_audio_sample_rates(
            _as_stereo(audio1["waveform"], "audio1"), audio1["sample_rate"],
            _as_stereo(audio2["waveform"], "audio2"), audio2["sample_rate"])
        parts = (first, second) if direction == "after" else (second, first)
        return ({"waveform": torch.cat(parts, dim=2), "sample_rate": sample_rate},)


class AudioMerge:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "audio1": ("AUDIO",),
            "audio2": ("AUDIO",),
            "merge_method": (["add", "mean", "subtract", "multiply"],
                             {"tooltip": "The method used to combine the audio waveforms."}),
        }}

    FUNCTION = "merge"
    RETURN_TYPES = ("AUDIO",)
    CATEGORY = "audio"
    DESCRIPTION = "Combine two audio tracks by overlaying their waveforms."

    def merge(self, audio1: dict, audio2: dict, merge_method: str) -> tuple[dict]:
        first, second, sample_rate = match_audio_sample_rates(audio1["waveform"], audio1["sample_rate"],
                                                              audio2["waveform"], audio2["sample_rate"])
        length = first.shape[-1]
        if second.shape[-1] > length:
            logging.info("AudioMerge: Trimming audio2 from %s to %s samples to match audio1 length.",
                         second.shape[-1], length)
            second = second[..., :length]
        elif second.shape[-1] < length:
            logging.info("AudioMerge: Padding audio2 from %s to %s samples to match audio1 length.",
                         second.shape[-1], length)
            second = torch.nn.functional.pad(second, (0, length - second.shape[-1]))
        if merge_method == "add":
            merged = first + second
        elif merge_method == "subtract":
            merged = first - second
        elif merge_method == "multiply":
            merged = first * second
        elif merge_method == "mean":
            merged = (first + second) / 2
        else:
            raise ValueError(f"AudioMerge: unknown merge_method {merge_method!r}")
        peak = merged.abs().max()
        if peak > 1.0:
            merged = merged / peak
        return ({"waveform": merged, "sample_rate": sample_rate},)


class AudioAdjustVolume:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "audio": ("AUDIO",),
            "volume": ("INT", {"default": 1.0, "min": -100, "max": 100,
                               "tooltip": "Volume adjustment in decibels (dB). 0 = no change, +6 = double, -6 = "
                                          "half, etc"}),
        }}

    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "adjust_volume"
    CATEGORY = "audio"

    def adjust_volume(self, audio: dict, volume: int) -> tuple[dict]:
        if volume == 0:
            return (audio,)
        return ({"waveform": audio["waveform"] * (10 ** (volume / 20)), "sample_rate": audio["sample_rate"]},)


class EmptyAudio:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "duration": ("FLOAT", {"default": 60.0, "min": 0.0, "max": 0xffffffffffffffff, "step": 0.01,
                                   "tooltip": "Duration of the empty audio clip in seconds"}),
            "sample_rate": ("INT", {"default": 44100, "tooltip": "Sample rate of the empty audio clip."}),
            "channels": ("INT", {"default": 2, "min": 1, "max": 2,
                                 "tooltip": "Number of audio channels (1 for mono, 2 for stereo)."}),
        }}

    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "create_empty_audio"
    CATEGORY = "audio"

    def create_empty_audio(self, duration: float, sample_rate: int, channels: int) -> tuple[dict]:
        samples = int(round(duration * sample_rate))
        return ({"waveform": torch.zeros((1, channels, samples), dtype=torch.float32), "sample_rate": sample_rate},)


NODE_CLASS_MAPPINGS = {
    "SaveAudio": SaveAudio,
    "SaveAudioMP3": SaveAudioMP3,
    "SaveAudioOpus": SaveAudioOpus,
    "LoadAudio": LoadAudio,
    "PreviewAudio": PreviewAudio,
    "RecordAudio": RecordAudio,
    "TrimAudioDuration": TrimAudioDuration,
    "SplitAudioChannels": SplitAudioChannels,
    "AudioConcat": AudioConcat,
    "AudioMerge": AudioMerge,
    "AudioAdjustVolume": AudioAdjustVolume,
    "EmptyAudio": EmptyAudio,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "PreviewAudio": "Preview Audio",
    "LoadAudio": "Load Audio",
    "SaveAudio": "Save Audio (FLAC)",
    "SaveAudioMP3": "Save Audio (MP3)",
    "SaveAudioOpus": "Save Audio (Opus)",
    "RecordAudio": "Record Audio",
    "TrimAudioDuration": "Trim Audio Duration",
    "SplitAudioChannels": "Split Audio Channels",
    "AudioConcat": "Audio Concat",
    "AudioMerge": "Audio Merge",
    "AudioAdjustVolume": "Audio Adjust Volume",
    "EmptyAudio": "Empty Audio",
}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not implement this `nodes_audio` node yet'

ConditioningStableAudio = unsupported_class(__name__, 'ConditioningStableAudio', None, _REASON)
EmptyLatentAudio = unsupported_class(__name__, 'EmptyLatentAudio', '', _REASON)
VAEDecodeAudio = unsupported_class(__name__, 'VAEDecodeAudio', None, _REASON)
VAEEncodeAudio = unsupported_class(__name__, 'VAEEncodeAudio', None, _REASON)
