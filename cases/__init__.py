"""The case domain: the hotline loop a filed case follows (model, workflow, SLA, taxonomy)."""
