"""The S3 engine: buckets, objects, multipart uploads and notifications. Knows nothing of HTTP.

State lives in ``<data_dir>/s3.db`` (SQLite) and ``<data_dir>/blobs`` (object bytes). The engine
is assembled from small mixins, one per concern, that share the core's connection and blob store.
"""

from __future__ import annotations

from nimbus.services.s3.buckets import BucketsMixin
from nimbus.services.s3.core import Actor, ObjectRecord
from nimbus.services.s3.listing import ListingMixin
from nimbus.services.s3.multipart import MultipartMixin
from nimbus.services.s3.notifications import NotificationsMixin

__all__ = ["Actor", "ObjectRecord", "S3Engine"]


class S3Engine(BucketsMixin, ListingMixin, MultipartMixin, NotificationsMixin):
    """All S3 state for one Nimbus data directory."""
