"""S3: buckets, objects, multipart uploads, CORS, websites and event notifications."""
