"""The `fastmse` command line: `fastmse info` prints the build and runtime configuration."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="fastmse", description="Fast, exact mean squared error kernels."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "info", help="print the version, compiler, SIMD targets, OpenMP and threads"
    )
    arguments = parser.parse_args(argv)

    import fastmse

    if arguments.command == "info":
        fastmse.show_config()
    return 0


if __name__ == "__main__":
    sys.exit(main())
