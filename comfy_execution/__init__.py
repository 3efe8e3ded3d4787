"""The graph engine: prompt graphs, scheduling, caching, validation and node loading."""
