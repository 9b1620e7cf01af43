import sys

from statefulness.cli import main

sys.exit(main())
