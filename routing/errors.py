"""Domain errors. They know nothing about HTTP: agent_web/errors.py maps them to status codes."""

from __future__ import annotations


class HubError(Exception):
    """Base of every domain error."""


class NotFound(HubError):
    """Base of the 'no such thing' errors (404 at the HTTP edge)."""


class Conflict(HubError):
    """Base of the 'the state of the world refuses this' errors (409 at the HTTP edge)."""


class InvalidInput(HubError):
    """Input that is well-formed but not acceptable (400 at the HTTP edge)."""


class CaseNotFound(NotFound):
    def __init__(self, number: str) -> None:
        super().__init__(f"case {number} does not exist")
        self.number = number


class CustomerNotFound(NotFound):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} does not exist")
        self.customer_id = customer_id


class IllegalTransition(Conflict):
    """A case action that its current state does not allow."""

    def __init__(self, state: str, action: str, detail: str = "") -> None:
        message = f"cannot {action} a case in state {state}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.state = state
        self.action = action


class StaleWrite(Conflict):
    """An optimistic-concurrency write based on an outdated version."""

    def __init__(self, what: str, expected_version: int) -> None:
        super().__init__(
            f"{what} was changed by someone else (expected version {expected_version})"
        )
        self.expected_version = expected_version


class IdentityTaken(Conflict):
    def __init__(self, key: str, owner_id: str) -> None:
        super().__init__(f"identity {key} already belongs to customer {owner_id}")
        self.key = key
        self.owner_id = owner_id


class UnknownCategory(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__(f"category {code} is not in the taxonomy")
        self.code = code


class AgentNotFound(NotFound):
    def __init__(self, login: str) -> None:
        super().__init__(f"agent {login} does not exist")
        self.login = login


class DepartmentNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"department {code} does not exist")
        self.code = code


class AlreadyMerged(Conflict):
    def __init__(self, customer_id: str, into_id: str) -> None:
        super().__init__(f"customer {customer_id} was already merged into {into_id}")


class ConversationNotFound(NotFound):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id} does not exist")


class NotAllowed(HubError):
    """The actor may not do this (403 at the HTTP edge)."""
