"""Bulk import and export of customers: file formats, row shapes, batched writes."""
