"""``edgevoice bench``: a load generator in its own processes, and what it measures."""
