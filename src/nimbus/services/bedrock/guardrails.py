"""Bedrock guardrails: the control-plane operations over the store, and compiled-version caching."""

from __future__ import annotations

import re
import secrets
import string
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError, not_found, validation
from nimbus.services.bedrock.guardrail_config import build_document
from nimbus.services.bedrock.guardrail_engine import CompiledGuardrail
from nimbus.services.bedrock.versioned_store import Stored, VersionedStore, epoch_time, page

Req = dict[str, Any]
Out = dict[str, Any]
GUARDRAILS_PER_ACCOUNT = 100  # AWS's default quotas
VERSIONS_PER_GUARDRAIL = 20
_ID = re.compile(r"[a-z0-9]+")
_ARN = re.compile(r"arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/([a-z0-9]+)")
_VERSION = re.compile(r"[1-9][0-9]{0,7}")
_ALPHABET = string.ascii_lowercase + string.digits


class Guardrails:
    def __init__(self, data_dir: Path, region: str, account_id: str) -> None:
        self.store = VersionedStore(data_dir / "guardrails.db", "guardrails", "guardrail_versions")
        self.region = region
        self.account_id = account_id
        self._compiled: dict[tuple[str, str], CompiledGuardrail] = {}

    def close(self) -> None:
        self._compiled.clear()
        self.store.close()

    def arn(self, gid: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account_id}:guardrail/{gid}"

    # -- lookups ------------------------------------------------------------------------------
    @staticmethod
    def guardrail_id(identifier: str) -> str:
        if _ID.fullmatch(identifier or ""):
            return identifier
        found = _ARN.fullmatch(identifier or "")
        if found:
            return found.group(1)
        raise validation(
            f"The guardrail identifier '{identifier}' is neither a guardrail ID nor its ARN."
        )

    def _draft(self, gid: str) -> Stored:
        stored = self.store.draft(gid)
        if stored is None:
            raise not_found("ResourceNotFoundException", f"The guardrail '{gid}' does not exist.")
        return stored

    def _stored(self, gid: str, version: str | None) -> tuple[Stored, Stored]:
        """(the draft, the requested version) of a guardrail."""
        draft = self._draft(gid)
        if version in (None, "", "DRAFT"):
            return draft, draft
        if not _VERSION.fullmatch(version or ""):
            raise validation(f"The guardrail version '{version}' is not DRAFT or a version number.")
        stored = self.store.version(gid, int(version))
        if stored is None:
            raise not_found(
                "ResourceNotFoundException",
                f"The guardrail '{gid}' has no version {version}.",
            )
        return draft, stored

    def compiled(self, identifier: str, version: str) -> CompiledGuardrail:
        gid = self.guardrail_id(identifier)
        key = (gid, version or "DRAFT")
        compiled = self._compiled.get(key)
        if compiled is None:
            _, stored = self._stored(gid, version)
            compiled = CompiledGuardrail(stored.doc, gid, self.arn(gid), stored.version)
            self._compiled[key] = compiled
        return compiled

    def _forget(self, gid: str, version: str | None = None) -> None:
        for key in [k for k in self._compiled if k[0] == gid and version in (None, k[1])]:
            del self._compiled[key]

    # -- operations ---------------------------------------------------------------------------
    def create(self, req: Req) -> Out:
        token = req.get("clientRequestToken")
        if token:
            known = self.store.by_token(token)
            if known is not None:
                return self._created(known.id, known.created)
        doc = build_document(req, self.region, self.account_id)
        if self.store.count() >= GUARDRAILS_PER_ACCOUNT:
            raise AwsError(
                "ServiceQuotaExceededException",
                f"This account already has {GUARDRAILS_PER_ACCOUNT} guardrails, the quota; "
                "delete one first.",
                400,
            )
        gid = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        created = self.store.create(gid, doc, token)
        if created is None:
            raise AwsError(
                "ConflictException", f"A guardrail named '{req['name']}' already exists.", 400
            )
        return self._created(gid, created.created)

    def _created(self, gid: str, created: float) -> Out:
        return {"guardrailId": gid, "guardrailArn": self.arn(gid), "version": "DRAFT",
                "createdAt": epoch_time(created)}  # fmt: skip

    def get(self, req: Req) -> Out:
        gid = self.guardrail_id(req["guardrailIdentifier"])
        draft, stored = self._stored(gid, req.get("guardrailVersion"))
        out: Out = {
            **stored.doc,
            "guardrailId": gid,
            "guardrailArn": self.arn(gid),
            "version": stored.version,
            "status": "READY",
            "createdAt": epoch_time(draft.created),
            "updatedAt": epoch_time(stored.updated),
            "statusReasons": [],
            "failureRecommendations": [],
        }
        return out

    def _summary(self, gid: str, draft: Stored, stored: Stored) -> Out:
        summary: Out = {
            "id": gid,
            "arn": self.arn(gid),
            "status": "READY",
            "name": stored.doc["name"],
            "version": stored.version,
            "createdAt": epoch_time(draft.created),
            "updatedAt": epoch_time(stored.updated),
        }
        for member in ("description", "crossRegionDetails"):
            if stored.doc.get(member):
                summary[member] = stored.doc[member]
        return summary

    def list(self, req: Req) -> Out:
        identifier = req.get("guardrailIdentifier")
        if identifier:
            gid = self.guardrail_id(identifier)
            draft = self._draft(gid)
            items = [self._summary(gid, draft, s) for s in (draft, *self.store.versions(gid))]
        else:
            items = [self._summary(d.id, d, d) for d in self.store.drafts()]
        shown, token = page(items, req.get("nextToken"), req.get("maxResults") or 20, "guardrails")
        return {"guardrails": shown, "nextToken": token} if token else {"guardrails": shown}

    def update(self, req: Req) -> Out:
        gid = self.guardrail_id(req["guardrailIdentifier"])
        self._draft(gid)
        doc = build_document(req, self.region, self.account_id)
        updated = self.store.update(gid, doc)
        if updated is None:
            raise AwsError(
                "ConflictException", f"A guardrail named '{req['name']}' already exists.", 400
            )
        self._forget(gid, "DRAFT")
        return {"guardrailId": gid, "guardrailArn": self.arn(gid), "version": "DRAFT",
                "updatedAt": epoch_time(updated.updated)}  # fmt: skip

    def delete(self, req: Req) -> Out:
        gid = self.guardrail_id(req["guardrailIdentifier"])
        version = req.get("guardrailVersion")
        if version:
            self._stored(gid, version)
            self.store.delete_version(gid, int(version))
            self._forget(gid, version)
        else:
            self._draft(gid)
            self.store.delete(gid)
            self._forget(gid)
        return {}

    def create_version(self, req: Req) -> Out:
        gid = self.guardrail_id(req["guardrailIdentifier"])
        self._draft(gid)
        if self.store.count_versions(gid) >= VERSIONS_PER_GUARDRAIL:
            raise AwsError(
                "ServiceQuotaExceededException",
                f"The guardrail '{gid}' already has {VERSIONS_PER_GUARDRAIL} versions, the "
                "quota; delete an old version first.",
                400,
            )
        stored = self.store.add_version(gid, req.get("description"), req.get("clientRequestToken"))
        return {"guardrailId": gid, "version": stored.version}
