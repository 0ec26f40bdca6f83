"""Bedrock prompt management: prompts with a draft and immutable numbered versions."""

from __future__ import annotations

import re
import secrets
import string
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError, not_found, validation
from nimbus.services.bedrock.versioned_store import Stored, VersionedStore, epoch_time, page
from nimbus.services.bedrock_agent.prompt_render import render

Req = dict[str, Any]
Out = dict[str, Any]
_NAME = re.compile(r"([0-9a-zA-Z][_-]?){1,100}")
_ID = re.compile(r"[0-9a-zA-Z]{10}")
_ARN = re.compile(
    r"arn:aws:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:prompt/([0-9a-zA-Z]{10})(?::([0-9]{1,5}))?"
)
_VERSION = re.compile(r"[0-9]{0,4}[1-9][0-9]{0,4}")
_ALPHABET = string.ascii_uppercase + string.digits
_SUMMARY = ("name", "description", "id", "arn", "version", "createdAt", "updatedAt")
_DOC_MEMBERS = ("name", "description", "customerEncryptionKeyArn", "defaultVariant", "variants")


def _check_name(value: str, where: str) -> None:
    if not _NAME.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {_NAME.pattern}"
        )


def _document(req: Req) -> Req:
    """The stored prompt from a Create/UpdatePrompt request, checked."""
    _check_name(req["name"], "name")
    doc = {k: req[k] for k in _DOC_MEMBERS if req.get(k) is not None}
    names = []
    for variant in doc.get("variants") or []:
        _check_name(variant["name"], "variants.member.name")
        kind = variant["templateType"].lower()
        config = variant["templateConfiguration"]
        if kind not in config:
            raise validation(
                f"The variant '{variant['name']}' has templateType {variant['templateType']}: "
                f"give templateConfiguration.{kind}."
            )
        for var in config[kind].get("inputVariables") or []:
            _check_name(var.get("name") or "", "inputVariables.member.name")
        names.append(variant["name"])
    default = doc.get("defaultVariant")
    if default and default not in names:
        raise validation(f"The defaultVariant '{default}' is not one of the prompt's variants.")
    return doc


class Prompts:
    def __init__(self, data_dir: Path, region: str, account_id: str) -> None:
        self.store = VersionedStore(data_dir / "prompts.db", "prompts", "prompt_versions")
        self.region = region
        self.account_id = account_id
        # Numbered versions never change: Converse reads them from memory after the first time.
        self._versions: dict[tuple[str, int], Stored] = {}

    def close(self) -> None:
        self.store.close()

    def arn(self, pid: str, version: str = "DRAFT") -> str:
        base = f"arn:aws:bedrock:{self.region}:{self.account_id}:prompt/{pid}"
        return base if version == "DRAFT" else f"{base}:{version}"

    @staticmethod
    def parse(identifier: str) -> tuple[str, str | None]:
        """(prompt ID, version named in an ARN or None) of a prompt ID or ARN."""
        if _ID.fullmatch(identifier or ""):
            return identifier, None
        found = _ARN.fullmatch(identifier or "")
        if found:
            return found.group(1), found.group(2)
        raise validation(
            f"The prompt identifier '{identifier}' is neither a prompt ID nor its ARN."
        )

    def _draft(self, pid: str) -> Stored:
        stored = self.store.draft(pid)
        if stored is None:
            raise not_found("ResourceNotFoundException", f"The prompt '{pid}' does not exist.")
        return stored

    def _stored(self, pid: str, version: str | None) -> Stored:
        if version in (None, "", "DRAFT"):
            return self._draft(pid)
        if not _VERSION.fullmatch(version or ""):
            raise validation(f"The prompt version '{version}' is not DRAFT or a version number.")
        key = (pid, int(version))
        stored = self._versions.get(key) or self.store.version(*key)
        if stored is not None:
            self._versions[key] = stored
        if stored is None:
            self._draft(pid)
            raise not_found(
                "ResourceNotFoundException", f"The prompt '{pid}' has no version {version}."
            )
        return stored

    def _out(self, stored: Stored) -> Out:
        draft = stored if stored.version == "DRAFT" else self.store.draft(stored.id)
        created = draft.created if draft else stored.created
        return {**stored.doc, "id": stored.id, "arn": self.arn(stored.id, stored.version),
                "version": stored.version, "createdAt": epoch_time(created),
                "updatedAt": epoch_time(stored.updated)}  # fmt: skip

    # -- operations ---------------------------------------------------------------------------
    def create(self, req: Req) -> Out:
        token = req.get("clientToken")
        if token:
            known = self.store.by_token(token)
            if known is not None:
                return self._out(known)
        doc = _document(req)
        pid = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        stored = self.store.create(pid, doc, token)
        if stored is None:
            raise AwsError(
                "ConflictException", f"A prompt named '{req['name']}' already exists.", 409
            )
        return self._out(stored)

    def get(self, req: Req) -> Out:
        pid, arn_version = self.parse(req["promptIdentifier"])
        return self._out(self._stored(pid, req.get("promptVersion") or arn_version))

    def list(self, req: Req) -> Out:
        identifier = req.get("promptIdentifier")
        if identifier:
            pid, _ = self.parse(identifier)
            draft = self._draft(pid)
            items = [draft, *self.store.versions(pid)]
        else:
            items = self.store.drafts()
        summaries = []
        for stored in items:
            summary = self._out(stored)
            summaries.append({k: summary[k] for k in _SUMMARY if k in summary})
        shown, token = page(summaries, req.get("nextToken"), req.get("maxResults") or 10, "prompts")
        out: Out = {"promptSummaries": shown}
        if token:
            out["nextToken"] = token
        return out

    def update(self, req: Req) -> Out:
        pid, _ = self.parse(req["promptIdentifier"])
        self._draft(pid)
        stored = self.store.update(pid, _document(req))
        if stored is None:
            raise AwsError(
                "ConflictException", f"A prompt named '{req['name']}' already exists.", 409
            )
        return self._out(stored)

    def delete(self, req: Req) -> Out:
        pid, _ = self.parse(req["promptIdentifier"])
        version = req.get("promptVersion")
        if version:
            self._stored(pid, version)
            self.store.delete_version(pid, int(version))
            self._versions.pop((pid, int(version)), None)
            return {"id": pid, "version": version}
        self._draft(pid)
        self.store.delete(pid)
        for key in [k for k in self._versions if k[0] == pid]:
            del self._versions[key]
        return {"id": pid}

    def create_version(self, req: Req) -> Out:
        pid, _ = self.parse(req["promptIdentifier"])
        self._draft(pid)
        stored = self.store.add_version(pid, req.get("description"), req.get("clientToken"))
        return self._out(stored)

    def render(self, prompt_arn: str, variables: dict[str, Any] | None) -> dict:
        pid, version = self.parse(prompt_arn)
        stored = self._stored(pid, version)
        variants = stored.doc.get("variants") or []
        if not variants:
            raise validation(f"The prompt {prompt_arn} has no variant to run.")
        default = stored.doc.get("defaultVariant")
        variant = next((v for v in variants if v["name"] == default), variants[0])
        return render(variant, variables, prompt_arn)
