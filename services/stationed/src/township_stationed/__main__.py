"""``python -m township_stationed``."""

from township_stationed.main import main

main()
