"""``python -m township_permits``."""

from township_permits.main import main

main()
