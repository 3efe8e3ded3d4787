"""End-to-end tests: a real Kiln server process driven over HTTP and WebSocket."""
