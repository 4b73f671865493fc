"""Security tests: each replays a probe of the open internet, black-box over HTTP and WebSocket."""
