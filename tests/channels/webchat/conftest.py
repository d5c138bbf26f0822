"""The inbox rig (real app, test database, staff) serves the web-chat tests too."""

from tests.agent_web.conftest import hub, make_hub  # noqa: F401 - fixtures
