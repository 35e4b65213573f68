"""``python -m isbench`` (what ``torchrun -m isbench`` starts)."""

from isbench.cli import main

main()
