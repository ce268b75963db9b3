"""``python -m township_enforcement``."""

from township_enforcement.main import main

main()
