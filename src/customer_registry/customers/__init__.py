"""The canonical customer: one record per (client_id, customer_number), shared by both dialects."""
