"""One test per attack or bad input found: each reproduces it and proves it refused."""
