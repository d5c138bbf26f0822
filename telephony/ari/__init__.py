"""A small Asterisk REST Interface client: REST calls and the /ari/events WebSocket."""
