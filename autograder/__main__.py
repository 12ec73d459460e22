import sys

from .cli import main

if __name__ == "__main__":   # not when a worker started by spawn or a fork server imports the main module again
    sys.exit(main())
