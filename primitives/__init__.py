"""The hub's dependency-free base: small value types and helpers every package may use
(untrusted JSON decoding, …). It imports nothing of the hub's own packages."""
