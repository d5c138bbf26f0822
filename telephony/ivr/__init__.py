"""The speech IVR: flows as data (YAML) and the engine that runs them over any AudioTransport."""
