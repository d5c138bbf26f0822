"""agent_web package."""
