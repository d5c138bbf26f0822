"""Errors of the case domain."""

from __future__ import annotations

from primitives.errors import Conflict, InvalidInput, NotFound


class CaseNotFound(NotFound):
    def __init__(self, number: str) -> None:
        super().__init__(f"case {number} does not exist")
        self.number = number


class IllegalTransition(Conflict):
    """A case action that its current state does not allow."""

    def __init__(self, state: str, action: str, detail: str = "", *, missing: bool = False) -> None:
        message = f"cannot {action} a case in state {state}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.state = state
        self.action = action
        self.detail = detail
        # True: the state allows the action but the command lacks input (a 400, not a 409)
        self.missing = missing


class UnknownCategory(InvalidInput):
    def __init__(self, code: str) -> None:
        super().__init__(f"category {code} is not in the taxonomy")
        self.code = code


class DepartmentNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"department {code} does not exist")
        self.code = code
