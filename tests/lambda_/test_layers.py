"""boto3 against a live Nimbus: layer versions, layers on a function's path, requirements.txt."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import invoke

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def zip_files(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def make_wheel(folder: Path, package: str, value: str) -> Path:
    """A tiny pure-Python wheel: pip installs it offline from its path."""
    dist = f"{package}-1.0.dist-info"
    files = {
        f"{package}/__init__.py": f"VALUE = {value!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{dist}/RECORD,,\n"
    path = folder / f"{package}-1.0-py3-none-any.whl"
    path.write_bytes(zip_files(files))
    return path


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_layer_versions_and_function_path(lam: Any, make_function: Any) -> None:
    first = lam.publish_layer_version(
        LayerName="shared-lib",
        Description="helpers",
        Content={"ZipFile": zip_files({"python/helper.py": "WHO = 'layer-1'\n"})},
        CompatibleRuntimes=["python3.11", "python3.12"],
    )
    assert first["Version"] == 1 and first["LayerVersionArn"] == first["LayerArn"] + ":1"
    assert first["Content"]["CodeSha256"] and first["Content"]["CodeSize"] > 0
    second = lam.publish_layer_version(
        LayerName="shared-lib",
        Content={
            "ZipFile": zip_files(
                {
                    "python/helper.py": "WHO = 'layer-2'\n",
                    f"python/lib/{PY}/site-packages/sitepkg.py": "WHERE = 'site'\n",
                }
            )
        },
    )
    assert second["Version"] == 2
    got = lam.get_layer_version(LayerName="shared-lib", VersionNumber=1)
    assert got["Description"] == "helpers" and got["CompatibleRuntimes"] == [
        "python3.11",
        "python3.12",
    ]
    by_arn = lam.get_layer_version_by_arn(Arn=second["LayerVersionArn"])
    assert by_arn["Version"] == 2
    versions = lam.list_layer_versions(LayerName="shared-lib")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    only = lam.list_layer_versions(LayerName="shared-lib", CompatibleRuntime="python3.12")
    assert [v["Version"] for v in only["LayerVersions"]] == [1]
    layers = {x["LayerName"]: x for x in lam.list_layers()["Layers"]}
    assert layers["shared-lib"]["LatestMatchingVersion"]["Version"] == 2

    source = (
        "import helper, sitepkg\n"
        "def handler(event, context):\n"
        "    return {'who': helper.WHO, 'where': sitepkg.WHERE}\n"
    )
    name = make_function(source, Layers=[second["LayerVersionArn"]])
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["Layers"] == [{"Arn": second["LayerVersionArn"], "CodeSize": second["Content"][
        "CodeSize"]}]  # fmt: skip
    reply, body = invoke(lam, name)
    assert body == {"who": "layer-2", "where": "site"}, reply

    # Two layers: the later one's files win, as when AWS extracts them into /opt in order.
    lam.update_function_configuration(
        FunctionName=name, Layers=[second["LayerVersionArn"], first["LayerVersionArn"]]
    )
    assert invoke(lam, name)[1]["who"] == "layer-1"

    lam.delete_layer_version(LayerName="shared-lib", VersionNumber=1)
    with pytest.raises(ClientError) as exc:
        lam.get_layer_version(LayerName="shared-lib", VersionNumber=1)
    assert error_code(exc) == "ResourceNotFoundException"
    lam.delete_layer_version(LayerName="shared-lib", VersionNumber=1)  # idempotent
    # A function keeps a deleted layer version it uses, through other updates too.
    lam.update_function_configuration(FunctionName=name, Timeout=5)
    assert invoke(lam, name)[1]["who"] == "layer-1"


def test_unknown_layer_and_zip_slip_refused(lam: Any, make_function: Any) -> None:
    missing = "arn:aws:lambda:us-east-1:000000000000:layer:no-such-layer:3"
    with pytest.raises(ClientError) as exc:
        make_function("def handler(e, c):\n    return 1\n", Layers=[missing])
    assert error_code(exc) == "InvalidParameterValueException"
    assert missing in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        make_function("def handler(e, c):\n    return 1\n", Layers=["not-an-arn"])
    assert error_code(exc) == "ValidationException"
    for evil in ("../escape.py", "/abs/escape.py", "python/../../escape.py"):
        with pytest.raises(ClientError) as exc:
            lam.publish_layer_version(
                LayerName="evil", Content={"ZipFile": zip_files({evil: "x = 1\n"})}
            )
        assert error_code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        lam.get_layer_version(LayerName="evil", VersionNumber=1)
    assert error_code(exc) == "ResourceNotFoundException"


def test_requirements_installed_from_local_wheel(
    lam: Any, make_function: Any, role: str, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "tinypkg", "from-wheel")
    package = zip_files(
        {
            "app.py": "import tinypkg\ndef handler(e, c):\n    return tinypkg.VALUE\n",
            "requirements.txt": f"{wheel}\n",
        }
    )
    name = make_function("unused", FunctionName=f"req-{tmp_path.name[-8:]}")
    lam.update_function_code(FunctionName=name, ZipFile=package)
    reply, body = invoke(lam, name)
    assert body == "from-wheel", reply

    # A relative wheel path resolves in the package; a failing install names the function.
    relative = zip_files(
        {
            "app.py": "import tinypkg\ndef handler(e, c):\n    return tinypkg.VALUE\n",
            "requirements.txt": "./tinypkg-1.0-py3-none-any.whl\n",
            "tinypkg-1.0-py3-none-any.whl": wheel.read_bytes(),
        }
    )
    other = lam.create_function(
        FunctionName=f"rel-{tmp_path.name[-8:]}",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": relative},
    )["FunctionName"]
    try:
        assert invoke(lam, other)[1] == "from-wheel"
        broken = zip_files({"app.py": "x = 1\n", "requirements.txt": "./missing-1.0.whl\n"})
        with pytest.raises(ClientError) as exc:
            lam.update_function_code(FunctionName=other, ZipFile=broken)
        assert error_code(exc) == "InvalidParameterValueException"
        message = exc.value.response["Error"]["Message"]
        assert other in message and "missing-1.0.whl" in message
        assert invoke(lam, other)[1] == "from-wheel"  # the failed update changed nothing
    finally:
        lam.delete_function(FunctionName=other)


def test_layer_from_s3_and_versions_survive_restart(fresh_nimbus: Any) -> None:
    from .conftest import make_role, zip_code

    lam, s3 = fresh_nimbus.client("lambda"), fresh_nimbus.client("s3")
    s3.create_bucket(Bucket="layer-artifacts")
    content = zip_files({"python/fromS3.py": "WHO = 's3-layer'\n"})
    s3.put_object(Bucket="layer-artifacts", Key="layer.zip", Body=content)
    layer = lam.publish_layer_version(
        LayerName="from-s3", Content={"S3Bucket": "layer-artifacts", "S3Key": "layer.zip"}
    )
    with pytest.raises(ClientError) as exc:
        lam.publish_layer_version(
            LayerName="from-s3", Content={"S3Bucket": "layer-artifacts", "S3Key": "missing.zip"}
        )
    assert error_code(exc) == "InvalidParameterValueException"
    role = make_role(fresh_nimbus.client("iam"))
    source = "import fromS3\ndef handler(e, c):\n    return fromS3.WHO + ':{}'\n"
    lam.create_function(FunctionName="kept", Runtime="python3.11", Role=role,
                        Handler="app.handler", Layers=[layer["LayerVersionArn"]],
                        Code={"ZipFile": zip_code(source.format("one"))})  # fmt: skip
    lam.publish_version(FunctionName="kept")
    lam.create_alias(FunctionName="kept", Name="live", FunctionVersion="1")
    lam.update_function_code(FunctionName="kept", ZipFile=zip_code(source.format("two")))
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    lam = fresh_nimbus.client("lambda")
    assert invoke(lam, "kept", Qualifier="live")[1] == "s3-layer:one"
    assert invoke(lam, "kept")[1] == "s3-layer:two"
    assert lam.publish_version(FunctionName="kept")["Version"] == "2"
