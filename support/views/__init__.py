"""Support pages. Thin: reads through the selectors and seams, writes through the services."""
