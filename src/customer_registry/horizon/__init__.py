"""The Horizon customer API dialect (spec part A)."""
