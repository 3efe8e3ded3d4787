"""Latent formats: how a model family's VAE latents are scaled into and out of the diffusion model's space.

`process_in` maps a VAE latent to model space before sampling, `process_out` maps the sampled result back.
The RGB factors give a cheap linear latent → RGB preview (`[C, 3]` matrix plus a `[3]` bias).
"""

from __future__ import annotations

import torch


class LatentFormat:
    """Base format: identity scaling, 4 channels, 2 spatial dimensions, no preview factors."""

    scale_factor: float = 1.0
    shift_factor: float = 0.0
    latent_channels: int = 4
    latent_dimensions: int = 2
    latent_rgb_factors: list[list[float]] | None = None
    latent_rgb_factors_bias: list[float] | None = None
    taesd_decoder_name: str | None = None

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        """VAE latent → model space: `(latent - shift_factor) * scale_factor`."""
        if self.shift_factor:
            latent = latent - self.shift_factor
        return latent * self.scale_factor

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        """Model space → VAE latent: `latent / scale_factor + shift_factor`."""
        latent = latent / self.scale_factor
        if self.shift_factor:
            latent = latent + self.shift_factor
        return latent


class SD15(LatentFormat):
    """Stable Diffusion 1.x / 2.x: 4 channels scaled by 0.18215."""

    def __init__(self, scale_factor: float = 0.18215):
        self.scale_factor = scale_factor
        self.latent_rgb_factors = [
            #   R        G        B
            [0.3512, 0.2297, 0.3227],
            [0.3250, 0.4974, 0.2350],
            [-0.2829, 0.1762, 0.2721],
            [-0.2120, -0.2616, -0.7177],
        ]
        self.taesd_decoder_name = "taesd_decoder"


class SDXL(LatentFormat):
    """Stable Diffusion XL: 4 channels scaled by 0.13025."""

    scale_factor = 0.13025

    def __init__(self):
        self.latent_rgb_factors = [
            #   R        G        B
            [0.3651, 0.4232, 0.4341],
            [-0.2533, -0.0042, 0.1068],
            [0.1076, 0.1111, -0.0362],
            [-0.3165, -0.2492, -0.2188],
        ]
        self.latent_rgb_factors_bias = [0.1084, -0.0175, -0.0011]
        self.taesd_decoder_name = "taesdxl_decoder"


class SD3(LatentFormat):
    """Stable Diffusion 3: 16 channels, shifted by 0.0609 and scaled by 1.5305."""

    latent_channels = 16
    scale_factor = 1.5305
    shift_factor = 0.0609
    latent_rgb_factors = [
        #   R        G        B
        [-0.0922, -0.0175, 0.0749],
        [0.0311, 0.0633, 0.0954],
        [0.1994, 0.0927, 0.0458],
        [0.0856, 0.0339, 0.0902],
        [0.0587, 0.0272, -0.0496],
        [-0.0006, 0.1104, 0.0309],
        [0.0978, 0.0306, 0.0427],
        [-0.0042, 0.1038, 0.1358],
        [-0.0194, 0.0020, 0.0669],
        [-0.0488, 0.0130, -0.0268],
        [0.0922, 0.0988, 0.0951],
        [-0.0278, 0.0524, -0.0542],
        [0.0332, 0.0456, 0.0895],
        [-0.0069, -0.0030, -0.0810],
        [-0.0596, -0.0465, -0.0293],
        [-0.1448, -0.1463, -0.1189],
    ]
    latent_rgb_factors_bias = [0.2394, 0.2135, 0.1925]
    taesd_decoder_name = "taesd3_decoder"


class Flux(SD3):
    """FLUX.1: 16 channels, shifted by 0.1159 and scaled by 0.3611 (SD3's layout with its own VAE's numbers)."""

    scale_factor = 0.3611
    shift_factor = 0.1159
    latent_rgb_factors = [
        #   R        G        B
        [-0.0346, 0.0244, 0.0681],
        [0.0034, 0.0210, 0.0687],
        [0.0275, -0.0668, -0.0433],
        [-0.0174, 0.0160, 0.0617],
        [0.0859, 0.0721, 0.0329],
        [0.0004, 0.0383, 0.0115],
        [0.0405, 0.0861, 0.0915],
        [-0.0236, -0.0185, -0.0259],
        [-0.0245, 0.0250, 0.1180],
        [0.1008, 0.0755, -0.0421],
        [-0.0515, 0.0201, 0.0011],
        [0.0428, -0.0012, -0.0036],
        [0.0817, 0.0765, 0.0749],
        [-0.1264, -0.0522, -0.1103],
        [-0.0280, -0.0881, -0.0499],
        [-0.1262, -0.0982, -0.0778],
    ]
    latent_rgb_factors_bias = [-0.0329, -0.0718, -0.0851]
    taesd_decoder_name = "taef1_decoder"


class SDXL_Playground_2_5(LatentFormat):  # noqa: N801 - ComfyUI's name
    """Playground v2.5 (SDXL's network, the EDM schedule): 4 channels normalised per channel by the latents' mean
    and standard deviation, then scaled by 0.5."""

    scale_factor = 0.5
    latent_rgb_factors = [
        #   R        G        B
        [0.3920, 0.4054, 0.4549],
        [-0.2634, -0.0196, 0.0653],
        [0.0568, 0.1687, -0.0755],
        [-0.3112, -0.2359, -0.2076],
    ]
    taesd_decoder_name = "taesdxl_decoder"

    def __init__(self):
        self.latents_mean = torch.tensor([-1.6574, 1.886, -1.383, 2.5155]).view(1, 4, 1, 1)
        self.latents_std = torch.tensor([8.4927, 5.9022, 6.5498, 5.2299]).view(1, 4, 1, 1)

    def _statistics(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (self.latents_mean.to(latent.device, latent.dtype), self.latents_std.to(latent.device, latent.dtype))

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        """`(latent - mean) * 0.5 / std`, per channel."""
        mean, std = self._statistics(latent)
        return (latent - mean) * self.scale_factor / std

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        mean, std = self._statistics(latent)
        return latent * std / self.scale_factor + mean


class SD_X4(LatentFormat):  # noqa: N801 - ComfyUI's name
    """Stable Diffusion x4 upscaler: 4 channels scaled by 0.08333."""

    scale_factor = 0.08333
    latent_rgb_factors = [
        [-0.2340, -0.3863, -0.3257],
        [0.0994, 0.0885, -0.0908],
        [-0.2833, -0.2349, -0.3741],
        [0.2523, -0.0055, -0.1651],
    ]


class SC_Prior(LatentFormat):  # noqa: N801 - ComfyUI's name
    """Stable Cascade stage C (the prior): 16 channels, unscaled."""

    latent_channels = 16
    scale_factor = 1.0
    latent_rgb_factors = [
        [-0.0326, -0.0204, -0.0127],
        [-0.1592, -0.0427, 0.0216],
        [0.0873, 0.0638, -0.0020],
        [-0.0602, 0.0442, 0.1304],
        [0.0800, -0.0313, -0.1796],
        [-0.0810, -0.0638, -0.1581],
        [0.1791, 0.1180, 0.0967],
        [0.0740, 0.1416, 0.0432],
        [-0.1745, -0.1888, -0.1373],
        [0.2412, 0.1577, 0.0928],
        [0.1908, 0.0998, 0.0682],
        [0.0209, 0.0365, -0.0092],
        [0.0448, -0.0650, -0.1728],
        [-0.1658, -0.1045, -0.1308],
        [0.0542, 0.1545, 0.1325],
        [-0.0352, -0.1672, -0.2541],
    ]


class SC_B(LatentFormat):  # noqa: N801 - ComfyUI's name
    """Stable Cascade stage B: 4 channels scaled by 1 / 0.43."""

    scale_factor = 1.0 / 0.43
    latent_rgb_factors = [
        [0.1121, 0.2006, 0.1023],
        [-0.2093, -0.0222, -0.0195],
        [-0.3087, -0.1535, 0.0366],
        [0.0290, -0.1574, -0.4078],
    ]


class Wan21(LatentFormat):
    """Wan 2.1 video latents [B, 16, T, H, W] (also the Wan 2.2 14B experts'): each channel normalised by the
    Wan VAE's per-channel mean and standard deviation, `(latent - mean) / std` (scale factor 1)."""

    scale_factor = 1.0
    latent_channels = 16
    latent_dimensions = 3
    latents_mean_values: tuple[float, ...] = (
        -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
        0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
    )
    latents_std_values: tuple[float, ...] = (
        2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
        3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
    )
    latent_rgb_factors = [
        #   R        G        B
        [-0.1299, -0.1692, 0.2932],
        [0.0671, 0.0406, 0.0442],
        [0.3568, 0.2548, 0.1747],
        [0.0372, 0.2344, 0.1420],
        [0.0313, 0.0189, -0.0328],
        [0.0296, -0.0956, -0.0665],
        [-0.3477, -0.4059, -0.2925],
        [0.0166, 0.1902, 0.1975],
        [-0.0412, 0.0267, -0.1364],
        [-0.1293, 0.0740, 0.1636],
        [0.0680, 0.3019, 0.1128],
        [0.0032, 0.0581, 0.0639],
        [-0.1251, 0.0927, 0.1699],
        [0.0060, -0.0633, 0.0005],
        [0.3477, 0.2275, 0.2950],
        [0.1984, 0.0913, 0.1861],
    ]
    latent_rgb_factors_bias = [-0.1835, -0.0868, -0.336]

    def _statistics(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, self.latent_channels) + (1,) * (latent.ndim - 2)
        mean = torch.tensor(self.latents_mean_values, dtype=latent.dtype, device=latent.device).view(shape)
        std = torch.tensor(self.latents_std_values, dtype=latent.dtype, device=latent.device).view(shape)
        return mean, std

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        """VAE latent → model space: `(latent - mean) * scale_factor / std`, per channel."""
        mean, std = self._statistics(latent)
        return (latent - mean) * self.scale_factor / std

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        """Model space → VAE latent: `latent * std / scale_factor + mean`, per channel."""
        mean, std = self._statistics(latent)
        return latent * std / self.scale_factor + mean


class Wan22(Wan21):
    """Wan 2.2 TI2V 5B latents [B, 48, T, H, W] (the Wan 2.2 VAE's), normalised per channel like Wan21's."""

    latent_channels = 48
    latents_mean_values = (
        -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
        -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
        -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
        -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
        -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
        0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
    )
    latents_std_values = (
        0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
        0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
        0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
        0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
        0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
        0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
    )
    latent_rgb_factors = [
        #   R        G        B
        [0.0119, 0.0103, 0.0046],
        [-0.1062, -0.0504, 0.0165],
        [0.0140, 0.0409, 0.0491],
        [-0.0813, -0.0677, 0.0607],
        [0.0656, 0.0851, 0.0808],
        [0.0264, 0.0463, 0.0912],
        [0.0295, 0.0326, 0.0590],
        [-0.0244, -0.0270, 0.0025],
        [0.0443, -0.0102, 0.0288],
        [-0.0465, -0.0090, -0.0205],
        [0.0359, 0.0236, 0.0082],
        [-0.0776, 0.0854, 0.1048],
        [0.0564, 0.0264, 0.0561],
        [0.0006, 0.0594, 0.0418],
        [-0.0319, -0.0542, -0.0637],
        [-0.0268, 0.0024, 0.0260],
        [0.0539, 0.0265, 0.0358],
        [-0.0359, -0.0312, -0.0287],
        [-0.0285, -0.1032, -0.1237],
        [0.1041, 0.0537, 0.0622],
        [-0.0086, -0.0374, -0.0051],
        [0.0390, 0.0670, 0.2863],
        [0.0069, 0.0144, 0.0082],
        [0.0006, -0.0167, 0.0079],
        [0.0313, -0.0574, -0.0232],
        [-0.1454, -0.0902, -0.0481],
        [0.0714, 0.0827, 0.0447],
        [-0.0304, -0.0574, -0.0196],
        [0.0401, 0.0384, 0.0204],
        [-0.0758, -0.0297, -0.0014],
        [0.0568, 0.1307, 0.1372],
        [-0.0055, -0.0310, -0.0380],
        [0.0239, -0.0305, 0.0325],
        [-0.0663, -0.0673, -0.0140],
        [-0.0416, -0.0047, -0.0023],
        [0.0166, 0.0112, -0.0093],
        [-0.0211, 0.0011, 0.0331],
        [0.1833, 0.1466, 0.2250],
        [-0.0368, 0.0370, 0.0295],
        [-0.3441, -0.3543, -0.2008],
        [-0.0479, -0.0489, -0.0420],
        [-0.0660, -0.0153, 0.0800],
        [-0.0101, 0.0068, 0.0156],
        [-0.0690, -0.0452, -0.0927],
        [-0.0145, 0.0041, 0.0015],
        [0.0421, 0.0451, 0.0373],
        [0.0504, -0.0483, -0.0356],
        [-0.0837, 0.0168, 0.0055],
    ]
    latent_rgb_factors_bias = [0.0317, -0.0878, -0.1388]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not support this model family'

ACEAudio = unsupported_class(__name__, 'ACEAudio', None, _REASON)
ChromaRadiance = unsupported_class(__name__, 'ChromaRadiance', '', _REASON)
Cosmos1CV8x8x8 = unsupported_class(__name__, 'Cosmos1CV8x8x8', None, _REASON)
Hunyuan3Dv2 = unsupported_class(__name__, 'Hunyuan3Dv2', None, _REASON)
Hunyuan3Dv2_1 = unsupported_class(__name__, 'Hunyuan3Dv2_1', None, _REASON)
Hunyuan3Dv2mini = unsupported_class(__name__, 'Hunyuan3Dv2mini', None, _REASON)
HunyuanImage21 = unsupported_class(__name__, 'HunyuanImage21', None, _REASON)
HunyuanImage21Refiner = unsupported_class(__name__, 'HunyuanImage21Refiner', None, _REASON)
HunyuanVideo = unsupported_class(__name__, 'HunyuanVideo', None, _REASON)
LTXV = unsupported_class(__name__, 'LTXV', '', _REASON)
Mochi = unsupported_class(__name__, 'Mochi', '', _REASON)
StableAudio1 = unsupported_class(__name__, 'StableAudio1', None, _REASON)
