"""Errors of the routing domain (customers, agents, conversations)."""

from __future__ import annotations

from primitives.errors import Conflict, NotFound


class CustomerNotFound(NotFound):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} does not exist")
        self.customer_id = customer_id


class IdentityTaken(Conflict):
    def __init__(self, key: str, owner_id: str) -> None:
        super().__init__(f"identity {key} already belongs to customer {owner_id}")
        self.key = key
        self.owner_id = owner_id


class AgentNotFound(NotFound):
    def __init__(self, login: str) -> None:
        super().__init__(f"agent {login} does not exist")
        self.login = login


class AlreadyMerged(Conflict):
    def __init__(self, customer_id: str, into_id: str) -> None:
        super().__init__(f"customer {customer_id} was already merged into {into_id}")


class ConversationNotFound(NotFound):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id} does not exist")
