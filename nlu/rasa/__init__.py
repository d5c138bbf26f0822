"""Rasa sidecar data: the pipeline (config.yml) and the venv pins (requirements, constraints)."""
