"""SMPP 3.4 PDUs on the wire: framing, encoding through smpplib's command classes, the
UCS-2 text codec with concatenation (UDH), and delivery-receipt parsing."""

from __future__ import annotations

import asyncio
import re
import struct
from dataclasses import dataclass
from typing import Any

from smpplib import command, consts, gsm
from smpplib.command import Command

HEADER = 16
MAX_PDU = 64 * 1024  # a submit_sm is < 300 bytes; anything this large is garbage

ROK = consts.SMPP_ESME_ROK
RTHROTTLED = 0x58  # ESME_RTHROTTLED: the SMSC asks us to slow down
RX_T_APPN = 0x64  # ESME_RX_T_APPN: temporary application error, the SMSC redelivers
RSYSERR = 0x08
RINVCMDID = 0x03
UCS2 = consts.SMPP_ENCODING_ISO10646  # data_coding 8
UDHI = consts.SMPP_GSMFEAT_UDHI  # esm_class 0x40: short_message starts with a UDH
RECEIPT = 0x04  # esm_class bit: this deliver_sm is a delivery receipt
RETRYABLE = frozenset(
    {RTHROTTLED, RSYSERR, 0x14, 0x45}
)  # throttled, system, queue full, submit fail


class PduError(Exception):
    """A malformed frame: the connection cannot be trusted any more."""


class Sequence:
    """Sequence numbers for one connection (smpplib asks its 'client' for them)."""

    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


def make(name: str, seq: Sequence, *, sequence: int | None = None, status: int = ROK,
         **params: Any) -> bytes:  # fmt: skip
    """One PDU as bytes; sequence=None takes the next number (requests), responses pass
    the request's."""
    pdu = command.factory(name, client=seq, **params)
    if sequence is not None:
        pdu.sequence = sequence
    pdu.status = status
    return pdu.generate()


def parse(raw: bytes, seq: Sequence) -> Command:
    try:
        pdu = command.factory(_command_name(raw), client=seq)
        pdu.parse(raw)
    except PduError:
        raise
    except Exception as e:  # smpplib raises bare exceptions on bad bodies
        raise PduError(f"unparsable PDU: {e}") from e
    return pdu


def _command_name(raw: bytes) -> str:
    from smpplib.command_codes import get_command_name

    try:
        return get_command_name(struct.unpack(">L", raw[4:8])[0])
    except Exception as e:
        raise PduError(f"unknown command id {raw[4:8].hex()}") from e


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """One whole PDU. Raises IncompleteReadError at EOF, PduError on a bad length."""
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">L", head)
    if not HEADER <= length <= MAX_PDU:
        raise PduError(f"bad command_length {length}")
    return head + await reader.readexactly(length - 4)


def header(raw: bytes) -> tuple[int, int, int]:
    """(command_id, command_status, sequence_number) of a frame."""
    _, cid, status, seq = struct.unpack(">LLLL", raw[:HEADER])
    return cid, status, seq


def text_parts(text: str) -> tuple[list[bytes], int, int]:
    """(short_message parts, data_coding, esm_class): UCS-2, split into 67-character parts
    with a concatenation UDH when longer than 70 characters."""
    parts, coding, esm = gsm.make_parts(text, encoding=UCS2)
    return list(parts), coding, esm


def segments(text: str) -> int:
    """How many SMS segments text takes in UCS-2."""
    return len(text_parts(text)[0])


@dataclass(frozen=True, slots=True)
class Concat:
    ref: int
    total: int
    index: int  # 1-based


def decode_short_message(pdu: Command) -> tuple[str, Concat | None]:
    """The text of a submit_sm / deliver_sm, and its place in a concatenated message."""
    body: bytes = pdu.short_message or b""
    if not body and getattr(pdu, "message_payload", None):
        body = pdu.message_payload
    concat = None
    if (pdu.esm_class or 0) & UDHI and body:
        udh_len = body[0]
        concat = _concat(body[1 : 1 + udh_len])
        body = body[1 + udh_len :]
    coding = pdu.data_coding or 0
    if coding == UCS2:
        text = body.decode("utf-16-be", errors="replace")
    elif coding == 3:
        text = body.decode("latin-1")
    else:  # 0: SMSC default alphabet; carriers send ASCII-compatible text in practice
        text = body.decode("ascii", errors="replace")
    return text, concat


def _concat(udh: bytes) -> Concat | None:
    i = 0
    while i + 1 < len(udh):
        iei, ln = udh[i], udh[i + 1]
        data = udh[i + 2 : i + 2 + ln]
        if iei == 0x00 and ln == 3:
            return Concat(data[0], data[1], data[2])
        if iei == 0x08 and ln == 4:
            return Concat(data[0] << 8 | data[1], data[2], data[3])
        i += 2 + ln
    return None


_RECEIPT = re.compile(r"(\w[\w ]*?):(\S*)")


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    stat: str  # DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE
    err: str

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"

    @property
    def final(self) -> bool:
        return self.stat not in ("ENROUTE", "ACCEPTD")


def parse_receipt(pdu: Command, text: str) -> Receipt:
    """A delivery receipt: the TLV receipted_message_id when present, else the text
    'id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…' (SMPP 3.4 appendix B)."""
    fields = {k.strip().lower(): v for k, v in _RECEIPT.findall(text)}
    tlv_id = getattr(pdu, "receipted_message_id", None)
    message_id = tlv_id.decode() if isinstance(tlv_id, bytes) else (tlv_id or "")
    return Receipt(
        message_id=message_id.strip("\0") or fields.get("id", ""),
        stat=fields.get("stat", "UNKNOWN").upper(),
        err=fields.get("err", ""),
    )


def as_str(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace").strip("\0")
    return value or ""
