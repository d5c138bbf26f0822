"""An SMSC emulator speaking SMPP 3.4 over TCP (PDUs built and parsed by smpplib).

It binds transceivers (checking system_id/password), answers submit_sm with a message id and
then, when asked for one, a delivery receipt deliver_sm; it reassembles concatenated UCS-2
parts so tests read whole messages; it pushes inbound deliver_sm to the bound client and
reports the client's deliver_sm_resp status; it answers enquire_link, can refuse submits with
a chosen command_status, and can drop every connection to exercise reconnects. Receipts can be
held back and sent by hand, and ids handed out again from the start as after an SMSC restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from smpplib.command import Command

from channels.sms import pdu

SYSTEM_ID = "hub12345"
PASSWORD = "secret1"
RBINDFAIL = 0x0D
FIRST_ID = 1000


@dataclass(frozen=True, slots=True)
class Submitted:
    message_id: str
    source: str
    destination: str
    text: str
    concat: pdu.Concat | None
    data_coding: int


class SmscEmulator:
    def __init__(self, *, system_id: str = SYSTEM_ID, password: str = PASSWORD) -> None:
        self.system_id = system_id
        self.password = password
        self.submitted: list[Submitted] = []
        self.refuse_next: list[int] = []  # command_status for the next submit_sm, in order
        self.undeliverable: set[str] = set()  # destinations whose receipts say UNDELIV
        self.receipts = True
        self.binds = 0
        self.enquire_links = 0
        self._seq = pdu.Sequence()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._bound: asyncio.StreamWriter | None = None
        self._bound_event = asyncio.Event()
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._next_id = FIRST_ID
        self.port = 0

    async def start(self) -> SmscEmulator:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> SmscEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def drop_connections(self) -> None:
        for writer in list(self._links):
            writer.close()
        self._links.clear()
        self._bound = None
        self._bound_event.clear()

    def restart_ids(self) -> None:
        """Hand out message ids from the start again, as an SMSC does after a restart."""
        self._next_id = FIRST_ID

    async def wait_bound(self, timeout_s: float = 10) -> None:
        await asyncio.wait_for(self._bound_event.wait(), timeout_s)

    def messages_to(self, destination: str) -> list[str]:
        """Whole texts sent to destination, concatenated parts joined in order."""
        whole: list[str] = []
        groups: dict[int, dict[int, str]] = {}
        for sub in self.submitted:
            if sub.destination != destination.lstrip("+"):
                continue
            if sub.concat is None:
                whole.append(sub.text)
                continue
            group = groups.setdefault(sub.concat.ref, {})
            group[sub.concat.index] = sub.text
            if len(group) == sub.concat.total:
                whole.append("".join(group[i] for i in sorted(group)))
        return whole

    async def deliver(
        self, source: str, text: str, *, destination: str = "12345", timeout_s: float = 10
    ) -> list[int]:
        """Send an inbound SMS (UCS-2, concatenated if long) to the bound client; returns
        the deliver_sm_resp status of every part."""
        parts, coding, esm = pdu.text_parts(text)
        return [
            await self._push(
                timeout_s,
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=source.lstrip("+"),
                destination_addr=destination,
                esm_class=esm,
                data_coding=coding,
                short_message=part,
            )
            for part in parts
        ]

    async def _push(self, timeout_s: float, **params: object) -> int:
        await self.wait_bound(timeout_s)
        assert self._bound is not None
        raw = pdu.make("deliver_sm", self._seq, **params)
        _, _, seq = pdu.header(raw)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = future
        try:
            self._bound.write(raw)
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._waiting.pop(seq, None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._links.add(writer)
        try:
            while True:
                raw = await pdu.read_frame(reader)
                cid, status, seq = pdu.header(raw)
                if cid & 0x80000000:
                    future = self._waiting.get(seq)
                    if future is not None and not future.done():
                        future.set_result(status)
                    continue
                await self._request(pdu.parse(raw, self._seq), writer)
        except (asyncio.IncompleteReadError, ConnectionError, pdu.PduError):
            pass
        finally:
            self._links.discard(writer)
            if self._bound is writer:
                self._bound = None
                self._bound_event.clear()
            writer.close()

    async def _request(self, req: Command, writer: asyncio.StreamWriter) -> None:
        name, seq = req.command, req.sequence
        if name == "bind_transceiver":
            ok = pdu.as_str(req.system_id) == self.system_id and (
                pdu.as_str(req.password) == self.password
            )
            writer.write(
                pdu.make(
                    "bind_transceiver_resp",
                    self._seq,
                    sequence=seq,
                    status=pdu.ROK if ok else RBINDFAIL,
                    system_id="SMSC-EMU",
                )
            )
            if ok:
                self.binds += 1
                self._bound = writer
                self._bound_event.set()
        elif name == "submit_sm":
            await self._submit(req, writer)
        elif name == "enquire_link":
            self.enquire_links += 1
            writer.write(pdu.make("enquire_link_resp", self._seq, sequence=seq))
        elif name == "unbind":
            writer.write(pdu.make("unbind_resp", self._seq, sequence=seq))
            await writer.drain()
            writer.close()
        else:
            writer.write(pdu.make("generic_nack", self._seq, sequence=seq, status=pdu.RINVCMDID))
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def _submit(self, req: Command, writer: asyncio.StreamWriter) -> None:
        if self.refuse_next:
            status = self.refuse_next.pop(0)
            writer.write(
                pdu.make("submit_sm_resp", self._seq, sequence=req.sequence, status=status)
            )
            return
        self._next_id += 1
        message_id = f"{self._next_id:x}"
        text, concat = pdu.decode_short_message(req)
        destination = pdu.as_str(req.destination_addr)
        self.submitted.append(
            Submitted(
                message_id, pdu.as_str(req.source_addr), destination, text, concat, req.data_coding
            )
        )
        writer.write(
            pdu.make("submit_sm_resp", self._seq, sequence=req.sequence, message_id=message_id)
        )
        if self.receipts and (req.registered_delivery or 0) & 1:
            asyncio.get_running_loop().create_task(self._receipt(message_id, destination))

    async def _receipt(self, message_id: str, destination: str) -> None:
        stat = "UNDELIV" if destination in self.undeliverable else "DELIVRD"
        with contextlib.suppress(TimeoutError, AssertionError, ConnectionError):
            await self.receipt(message_id, stat, destination, timeout_s=5)

    async def receipt(
        self, message_id: str, stat: str, destination: str, *, timeout_s: float = 10
    ) -> int:
        """Send a delivery receipt for message_id now; the client's deliver_sm_resp status."""
        stamp = time.strftime("%y%m%d%H%M")
        delivered = stat == "DELIVRD"
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if delivered else '000'} "
            f"submit date:{stamp} done date:{stamp} stat:{stat} "
            f"err:{'000' if delivered else '001'} text:"
        )
        return await self._push(
            timeout_s,
            source_addr=destination.lstrip("+"),
            destination_addr="12345",
            esm_class=pdu.RECEIPT,
            data_coding=0,
            short_message=text.encode("ascii"),
            receipted_message_id=message_id,
            message_state=2 if delivered else 5,
        )
