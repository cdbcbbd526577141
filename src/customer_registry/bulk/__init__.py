"""Bulk import and export of customers: file formats, row shapes, batched writes."""

from typing import Literal

# Here, not beside their readers and writers: the CLI's options name them, and its --help
# must not load the modules those need.
Format = Literal["jsonl", "csv"]
Dialect = Literal["registry", "horizon", "subscriptions"]
