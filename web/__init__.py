"""The HTTP and WebSocket edge: the routes, middleware and sockets the server assembles."""
