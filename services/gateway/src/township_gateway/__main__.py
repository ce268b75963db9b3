"""``python -m township_gateway``."""

from township_gateway.main import main

main()
