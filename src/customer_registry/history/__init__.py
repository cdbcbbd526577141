"""Customer Registry's own API beyond Riverty's: the change history."""
