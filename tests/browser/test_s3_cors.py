"""A page on another origin uploads straight to S3 with a presigned URL, as browsers do."""

from __future__ import annotations

from typing import Any

PAGE = b"<!doctype html><html><head><title>uploader</title></head><body>upload page</body></html>"

UPLOAD = """async (url) => {
  try {
    const reply = await fetch(url, {method: "PUT", body: "photo bytes from the browser",
                                    headers: {"Content-Type": "text/plain"}});
    return String(reply.status);
  } catch (error) {
    return "blocked: " + error;
  }
}"""


def site_origin(nimbus: Any) -> str:
    # The page is served from "localhost", the S3 API is reached on "127.0.0.1": two origins.
    return f"http://localhost:{nimbus.port}"


def host_page(s3: Any) -> None:
    s3.create_bucket(Bucket="uploader-site")
    s3.put_bucket_website(
        Bucket="uploader-site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    s3.put_object(Bucket="uploader-site", Key="index.html", Body=PAGE, ContentType="text/html")


def test_presigned_upload_from_another_origin(nimbus, aws, browser) -> None:
    s3 = aws("s3")
    host_page(s3)
    s3.create_bucket(Bucket="browser-uploads")
    s3.put_bucket_cors(
        Bucket="browser-uploads",
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [site_origin(nimbus)],
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "browser-uploads", "Key": "from-browser.txt"}
    )
    page = browser.new_page()
    try:
        page.goto(f"{site_origin(nimbus)}/_website/uploader-site/")
        assert page.title() == "uploader"
        assert page.evaluate(UPLOAD, url) == "200"
    finally:
        page.close()
    body = s3.get_object(Bucket="browser-uploads", Key="from-browser.txt")["Body"].read()
    assert body == b"photo bytes from the browser"


def test_upload_is_blocked_without_cors(nimbus, aws, browser) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="no-cors-bucket")
    if "uploader-site" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        host_page(s3)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "no-cors-bucket", "Key": "nope.txt"}
    )
    page = browser.new_page()
    try:
        page.goto(f"{site_origin(nimbus)}/_website/uploader-site/")
        assert page.evaluate(UPLOAD, url).startswith("blocked")
    finally:
        page.close()
    assert s3.list_objects_v2(Bucket="no-cors-bucket").get("KeyCount") == 0
