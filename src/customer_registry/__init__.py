"""Customer Registry: customer master data speaking Riverty's Horizon and Subscriptions APIs."""
