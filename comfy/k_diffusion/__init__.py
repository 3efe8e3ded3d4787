"""k-diffusion style samplers (one function per method) and the sigma schedules they run on."""
