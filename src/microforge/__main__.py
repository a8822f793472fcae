import sys

from microforge.cli import main

sys.exit(main())
