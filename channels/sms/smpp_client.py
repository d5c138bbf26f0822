"""An asyncio SMPP 3.4 client (ESME) bound as a transceiver.

One connection carries our submit_sm and the SMSC's deliver_sm (inbound messages and
delivery receipts). A deliver_sm is acknowledged only after the handler returned, i.e. after
the message was stored; if the handler fails the SMSC gets ESME_RX_T_APPN and redelivers.
enquire_link keeps the link alive (and detects a dead one); a lost link is re-bound with
backoff while submit() callers wait for it. The backoff grows while binds fail or drop at
once, and starts from its shortest delay again after a bind that held (its first
enquire_link was answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from smpplib.command import Command

from channels.sms import pdu
from channels.sms.pdu import ROK, PduError

log = logging.getLogger(__name__)

DeliverHandler = Callable[[Command], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class SmppError(Exception):
    """A submit that did not go through; status is the SMPP command_status (0: no link)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in pdu.RETRYABLE


@dataclass(frozen=True, slots=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    source_addr: str = "12345"
    system_type: str = ""
    enquire_link_s: float = 30.0
    response_timeout_s: float = 10.0
    reconnect_s: Sequence[float] = (1, 2, 5, 10, 30)


class SmppClient:
    def __init__(self, config: SmppConfig, *, sleep: Sleep = asyncio.sleep) -> None:
        self._config = config
        self._sleep = sleep  # between reconnects; tests pass one that records the delays
        self._held = False  # this link answered an enquire_link
        self._on_deliver: DeliverHandler | None = None
        self._seq = pdu.Sequence()
        self._pending: dict[int, asyncio.Future[Command]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._bound = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._inbound: asyncio.Queue[tuple[Command, asyncio.StreamWriter]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.binds = 0  # successful binds, for tests and metrics

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    def start(self, on_deliver: DeliverHandler) -> None:
        """Connect, bind and keep the link up; on_deliver stores each inbound deliver_sm."""
        self._on_deliver = on_deliver
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        self._worker = loop.create_task(self._deliver_in_order())

    async def close(self) -> None:
        self._closing = True
        if self._bound.is_set():
            with contextlib.suppress(SmppError, OSError, TimeoutError):
                await asyncio.wait_for(self._request("unbind"), 2)
        for task in (self._task, self._worker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._drop_link()

    async def wait_bound(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._bound.wait(), timeout_s)
        except TimeoutError:
            raise SmppError("SMSC link is down") from None

    async def submit(self, destination: str, text: str) -> list[str]:
        """Send text (UCS-2, concatenated when long) with a delivery receipt requested.
        Returns the SMSC's message id of every part. Raises SmppError."""
        parts, coding, esm = pdu.text_parts(text)
        await self.wait_bound(self._config.response_timeout_s)
        ids: list[str] = []
        for part in parts:
            resp = await self._request(
                "submit_sm",
                source_addr_ton=0 if self._config.source_addr.isdigit() else 5,  # 5: alphanumeric
                source_addr_npi=0,
                source_addr=self._config.source_addr,
                dest_addr_ton=1,  # international
                dest_addr_npi=1,  # E.164
                destination_addr=destination.lstrip("+"),
                esm_class=esm,
                data_coding=coding,
                registered_delivery=1,
                short_message=part,
            )
            if resp.status != ROK:
                raise SmppError(f"submit_sm refused: {resp.get_status_desc()}", resp.status)
            ids.append(pdu.as_str(resp.message_id))
        return ids

    async def _request(self, name: str, **params: object) -> Command:
        writer = self._writer
        if writer is None:
            raise SmppError("SMSC link is down")
        raw = pdu.make(name, self._seq, **params)
        _, _, seq = pdu.header(raw)
        future: asyncio.Future[Command] = asyncio.get_running_loop().create_future()
        self._pending[seq] = future
        try:
            writer.write(raw)
            await writer.drain()
            return await asyncio.wait_for(future, self._config.response_timeout_s)
        except TimeoutError:
            raise SmppError(f"no {name}_resp within {self._config.response_timeout_s}s") from None
        except (ConnectionError, OSError) as e:
            raise SmppError(f"SMSC link lost: {e}") from None
        finally:
            self._pending.pop(seq, None)

    async def _run(self) -> None:
        attempt = 0
        delays = tuple(self._config.reconnect_s) or (1.0,)
        while not self._closing:
            self._held = False
            try:
                await self._session()
            except (OSError, asyncio.IncompleteReadError, TimeoutError, PduError, SmppError) as e:
                if not self._closing:
                    log.warning("smpp.link_down", extra={"reason": f"{type(e).__name__}: {e}"})
            finally:
                self._drop_link()
            if self._closing:
                break
            if self._held:  # an outage after a good link starts again from the shortest delay
                attempt = 0
            await self._sleep(delays[min(attempt, len(delays) - 1)])
            attempt += 1

    async def _session(self) -> None:
        c = self._config
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(c.host, c.port), c.response_timeout_s
        )
        self._writer = writer
        reading = asyncio.get_running_loop().create_task(self._read(reader, writer))
        try:
            resp = await self._request(
                "bind_transceiver",
                system_id=c.system_id,
                password=c.password,
                system_type=c.system_type,
                interface_version=0x34,
            )
            if resp.status != ROK:
                raise SmppError(f"bind refused: {resp.get_status_desc()}", resp.status)
            self._bound.set()
            self.binds += 1
            log.info("smpp.bound", extra={"host": c.host, "port": c.port})
            while not reading.done():
                done, _ = await asyncio.wait({reading}, timeout=c.enquire_link_s)
                if not done:
                    await self._request("enquire_link")  # raises when the link is dead
                    self._held = True
            reading.result()  # raise what ended the read loop
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._read_frames(reader, writer)
        finally:  # the link is gone: callers waiting for a response learn it now
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SmppError("SMSC link lost"))

    async def _read_frames(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            raw = await pdu.read_frame(reader)
            cid, _, seq = pdu.header(raw)
            if cid & 0x80000000:  # a response (generic_nack too) to one of our requests
                future = self._pending.get(seq)
                if future is not None and not future.done():
                    future.set_result(pdu.parse(raw, self._seq))
                continue
            try:
                request = pdu.parse(raw, self._seq)
            except PduError:
                writer.write(
                    pdu.make("generic_nack", self._seq, sequence=seq, status=pdu.RINVCMDID)
                )
                continue
            if request.command == "deliver_sm":
                self._inbound.put_nowait((request, writer))
            elif request.command == "enquire_link":
                writer.write(pdu.make("enquire_link_resp", self._seq, sequence=seq))
            elif request.command == "unbind":
                writer.write(pdu.make("unbind_resp", self._seq, sequence=seq))
                await writer.drain()
                raise SmppError("SMSC unbound")
            else:
                writer.write(
                    pdu.make("generic_nack", self._seq, sequence=seq, status=pdu.RINVCMDID)
                )

    async def _deliver_in_order(self) -> None:
        """Hand deliver_sm to the handler one at a time, in arrival order, acking each after."""
        while True:
            request, writer = await self._inbound.get()
            status = ROK
            try:
                assert self._on_deliver is not None
                await self._on_deliver(request)
            except Exception:
                log.exception("smpp.deliver_failed")
                status = pdu.RX_T_APPN  # not stored: the SMSC will deliver it again
            if writer.is_closing():
                continue  # the link dropped; the SMSC redelivers the unacknowledged PDU
            with contextlib.suppress(ConnectionError, OSError):
                writer.write(
                    pdu.make("deliver_sm_resp", self._seq, sequence=request.sequence, status=status)
                )
                await writer.drain()

    def _drop_link(self) -> None:
        self._bound.clear()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SmppError("SMSC link lost"))
        self._pending.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
