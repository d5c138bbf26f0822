"""An SMTP server for tests: aiosmtpd's protocol implementation on the test's event loop.

It checks AUTH (PLAIN/LOGIN) when given credentials, keeps every accepted message as a parsed
email.message.EmailMessage, refuses chosen recipients with 550, answers the next N messages
with 451 (temporary), and can be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import warnings
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "hotline@example.gov.cn"
PASSWORD = "mail-secret-1"


class _Handler:
    def __init__(self, server: SmtpEmulator) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self._server.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._server.tempfail_next > 0:
            self._server.tempfail_next -= 1
            return "451 4.3.0 try again later"
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self._server.received.append(parsed)
        return "250 2.0.0 queued"


class SmtpEmulator:
    def __init__(self, *, user: str | None = USER, password: str = PASSWORD) -> None:
        self.user = user
        self.password = password
        self.received: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.tempfail_next = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> SmtpEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        handler = _Handler(self)
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self._protocol(handler), "127.0.0.1", self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def _protocol(self, handler: _Handler) -> SMTP:
        with warnings.catch_warnings():  # AUTH without TLS: fine on loopback in a test
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(
                handler,
                hostname="smtp.test",
                auth_required=self.user is not None,
                auth_require_tls=False,
                authenticator=self._authenticate,
            )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)  # a refusal answers 535
