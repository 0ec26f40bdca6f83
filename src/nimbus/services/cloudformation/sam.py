"""``Transform: AWS::Serverless-2016-10-31`` through the official aws-sam-translator.

Local ``CodeUri`` folders survive translation as ``{Bucket: LOCAL_CODE_BUCKET, Key: <abs path>}``
so the Lambda handler can run the folder in place: an edited handler takes effect on the next
invoke, without a redeploy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from nimbus.services.cloudformation.template import validation_error

LOCAL_CODE_BUCKET = "nimbus-local-folder"
_CODE_PROPS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
_DEFINITION_PROPS = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


def _managed_policy_arns() -> dict[str, str]:
    from nimbus.services.iam.managed import aws_managed_policies

    return {p.name: arn for arn, p in aws_managed_policies().items()}


class _PolicyLoader:
    """What the translator asks for: AWS managed policy name -> ARN (Nimbus ships them)."""

    def load(self) -> dict[str, str]:
        return _managed_policy_arns()


def _local_path(value: Any, base: Path) -> Path | None:
    if not isinstance(value, str) or value.startswith("s3://") or "://" in value:
        return None
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()


def _local_code(path: Path) -> dict[str, str]:
    """A local folder as SAM's ``{Bucket, Key, Version}``. The folder's digest as the version
    makes an edited folder a changed ``Code``, so ``AutoPublishAlias`` publishes a new
    ``AWS::Lambda::Version`` and a layer gets a new ``AWS::Lambda::LayerVersion``, as after
    ``sam build && sam deploy``."""
    out = {"Bucket": LOCAL_CODE_BUCKET, "Key": str(path)}
    if path.is_dir():
        from nimbus.services.lambda_.code import folder_digest

        out["Version"] = folder_digest(path)[0]
    return out


def _localize(template: dict[str, Any], base: Path) -> dict[str, Any]:
    """Map local CodeUri/ContentUri/DefinitionUri (and the Globals CodeUri) before translating."""
    template = copy.deepcopy(template)
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in globals_fn:
        path = _local_path(globals_fn["CodeUri"], base)
        if path is not None:
            globals_fn["CodeUri"] = _local_code(path)
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        key = _CODE_PROPS.get(resource["Type"])
        if key and key in props:
            path = _local_path(props[key], base)
            if path is not None:
                if not path.exists():
                    raise validation_error(f"{logical_id}: {key} folder {path} does not exist.")
                props[key] = _local_code(path)
        if resource["Type"] in _DEFINITION_PROPS and "DefinitionUri" in props:
            path = _local_path(props["DefinitionUri"], base)
            if path is not None:
                props.pop("DefinitionUri")
                props["DefinitionBody"] = _load_definition(logical_id, path)
    return template


def _load_definition(logical_id: str, path: Path) -> Any:
    from nimbus.services.cloudformation.template import _load_yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise validation_error(f"{logical_id}: cannot read DefinitionUri {path}: {exc}") from None
    return json.loads(text) if text.lstrip().startswith("{") else _load_yaml(text)


def expand(
    template: dict[str, Any], parameters: dict[str, Any], base_dir: Path, region: str
) -> dict[str, Any]:
    """The plain CloudFormation template SAM would deploy.

    This is ``samtranslator.translator.transform.transform`` with one difference: the translator
    gets a boto3 session for the stack's region, because the server has no AWS_DEFAULT_REGION.
    """
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.transform import undo_mark_unicode_str_in_template
    from samtranslator.translator.translator import Translator

    localized = _localize(template, base_dir)
    loader = _PolicyLoader()
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        out = translator.translate(
            localized, parameter_values=dict(parameters), get_managed_policy_map=loader.load
        )
        return undo_mark_unicode_str_in_template(out)
    except InvalidDocumentException as exc:
        reasons = "; ".join(str(cause.message) for cause in exc.causes) or str(exc)
        raise validation_error(
            f"Transform AWS::Serverless-2016-10-31 failed with: {reasons}"
        ) from None
