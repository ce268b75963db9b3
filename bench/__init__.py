"""The township benchmark: ``make bench`` (``python -m bench.run``); see README "Performance"."""
