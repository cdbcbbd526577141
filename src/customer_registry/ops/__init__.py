"""Running the service: logs, metrics, health, housekeeping and key checks."""
