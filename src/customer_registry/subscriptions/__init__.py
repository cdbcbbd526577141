"""The Subscriptions customer API dialect (spec part B)."""
