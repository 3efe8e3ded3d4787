"""Samplers that are not k-diffusion functions upstream (UniPC)."""
