"""``python -m township_personnel``."""

from township_personnel.main import main

main()
