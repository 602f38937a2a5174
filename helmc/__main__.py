import sys

from helmc.cli import main

sys.exit(main())
