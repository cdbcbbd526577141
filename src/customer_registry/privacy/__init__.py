"""Personal data rights (GDPR Art. 15, 17 and 20): export everything about a customer, and
erase it for good."""
