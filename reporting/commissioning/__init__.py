"""Commissioning data recorded by commissioners: units of safe accommodation commissioned per
financial year, and the actual spend paid under support contracts. Selectors read, services
write (with the change history), views are thin."""
