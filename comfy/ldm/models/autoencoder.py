"""ComfyUI's `comfy.ldm.models.autoencoder`, as faces: Kiln does not carry ComfyUI's `models` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `models` network code (Kiln's models are diffusers modules)"

AbstractAutoencoder = unsupported_class(__name__, 'AbstractAutoencoder', 'ema_decay=, monitor=, input_key=, **kwargs', _REASON)
AutoencoderKL = unsupported_class(__name__, 'AutoencoderKL', '**kwargs', _REASON)
AutoencodingEngine = unsupported_class(__name__, 'AutoencodingEngine', '*args, encoder_config, decoder_config, regularizer_config, **kwargs', _REASON)
AutoencodingEngineLegacy = unsupported_class(__name__, 'AutoencodingEngineLegacy', 'embed_dim, **kwargs', _REASON)
DiagonalGaussianRegularizer = unsupported_class(__name__, 'DiagonalGaussianRegularizer', 'sample=', _REASON)
EmptyRegularizer = unsupported_class(__name__, 'EmptyRegularizer', '', _REASON)
