"""The case loop wired into the hub: the case desk and the SLA light on the holiday calendar,
the dispatch catalogue (seeded from hub/data/dispatch_catalogue.yaml on first start), the
departments, the case search and the files attached to cases.

open_mongo calls open_cases once the database is up, before the channels (which hang their
case notices on the desk) open.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from pathlib import Path

from aiohttp import web

from agent_web.case_files import FILE_ID, DiskCaseFileStore, StoredCaseFile
from agent_web.keys import (
    CASE_DESK,
    CASE_FILES,
    CASE_FINDER,
    CATALOGUE,
    CLOCK,
    DEPARTMENTS,
    SLA,
    TAXONOMY,
)
from cases.catalogue import CatalogueDesk, load_catalogue_file
from cases.desk import CaseDesk
from cases.files import CaseFile
from cases.sla import DuePolicy, SlaPolicy, load_calendar
from hub.settings import DATA_DIR, Settings
from mongo.case_files import MongoCaseFileRecords
from mongo.cases import MongoCaseRepository
from mongo.catalogue import MongoCatalogueRepository
from mongo.client import Database
from mongo.people import MongoDepartmentRepository
from mongo.uploads import MongoUploadRepository
from telephony.recordings import RecordingStore

log = logging.getLogger(__name__)

CATALOGUE_FILE = DATA_DIR / "dispatch_catalogue.yaml"


async def open_cases(
    app: web.Application, settings: Settings, db: Database, cases: MongoCaseRepository
) -> None:
    """Build and set CASE_DESK, SLA, CASE_FINDER, DEPARTMENTS, CATALOGUE and CASE_FILES
    (TAXONOMY is set already)."""
    calendar = await asyncio.to_thread(load_calendar, settings.hub_routing_config)
    app[CASE_DESK] = CaseDesk(cases, lambda: app[TAXONOMY][0], DuePolicy(calendar), app[CLOCK])
    app[SLA] = SlaPolicy(calendar)
    app[CASE_FINDER] = cases
    departments = MongoDepartmentRepository(db)
    app[DEPARTMENTS] = departments
    catalogue = CatalogueDesk(MongoCatalogueRepository(db), lambda: app[TAXONOMY][0], departments)
    seed = await asyncio.to_thread(load_catalogue_file, CATALOGUE_FILE)
    count = await catalogue.load(partial(list, seed))
    app[CATALOGUE] = catalogue
    app[CASE_FILES] = CaseFilesWithCitizenUploads(
        DiskCaseFileStore(
            MongoCaseFileRecords(db), settings.hub_var_dir / "case-files", app[CLOCK]
        ),
        MongoUploadRepository(db),
        settings.hub_var_dir / "uploads",  # where the web chat keeps citizens' files
        RecordingStore(settings.hub_var_dir / "recordings"),
    )
    log.info("cases.ready", extra={"catalogue": count, "holidays": len(calendar.holidays)})


class CaseFilesWithCitizenUploads:
    """The workbench's case files, plus the files citizens sent in a chat (their ids are on
    the cases filed from it): those are served from the web chat's upload store, read only."""

    def __init__(
        self,
        files: DiskCaseFileStore,
        uploads: MongoUploadRepository,
        uploads_dir: Path,
        recordings: RecordingStore | None = None,
    ) -> None:
        self._files = files
        self._uploads = uploads
        self._uploads_dir = uploads_dir
        self._recordings = recordings  # calls' recordings and voicemails on a case

    async def save(self, case_number: str, name: str, data: bytes, actor: str) -> CaseFile:
        return await self._files.save(case_number, name, data, actor)

    async def open(self, file_id: str) -> StoredCaseFile | None:
        found = await self._files.open(file_id)
        if found is not None:
            return found
        if not re.fullmatch(FILE_ID, file_id):
            return None
        upload = await self._uploads.find(file_id)
        path = self._uploads_dir / file_id
        if upload is None or not path.is_file():
            return await self._recording(file_id)
        file = CaseFile(upload.id, upload.name, upload.mime, upload.size, case_number=None)
        return StoredCaseFile(file, path)

    async def _recording(self, file_id: str) -> StoredCaseFile | None:
        info = await self._recordings.find(file_id) if self._recordings else None
        if info is None or not info.path.is_file():
            return None
        name = "语音留言.wav" if info.kind == "voicemail" else "通话录音.wav"
        size = info.path.stat().st_size
        return StoredCaseFile(CaseFile(file_id, name, "audio/wav", size, None), info.path)
