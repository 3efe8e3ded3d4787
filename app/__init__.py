"""HTTP route modules of the server, each thin: parse, call one service, answer."""
