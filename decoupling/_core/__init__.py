"""Private building blocks: the visibility ledger and the deduplication window."""
