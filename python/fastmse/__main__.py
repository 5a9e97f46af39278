"""The `fastmse` command line: `info`, `bench` and `demo`."""

import argparse
import os
import sys

from fastmse.demo import cli as demo_cli


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="fastmse", description="Fast, exact mean squared error kernels."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "info", help="print the version, compiler, SIMD targets, OpenMP and threads"
    )
    commands.add_parser(
        "bench", help="time fastmse against NumPy on this machine (about ten seconds)"
    )
    demo_cli.add_arguments(
        commands.add_parser(
            "demo", help="train two small models on digits with fastmse's MSE"
        )
    )
    arguments = parser.parse_args(argv)

    import fastmse
    from fastmse import _quickbench

    try:
        if arguments.command == "info":
            fastmse.show_config()
        elif arguments.command == "bench":
            _quickbench.main()
        elif arguments.command == "demo":
            return demo_cli.run_command(arguments)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (for example `head`) closed the pipe: stop quietly, as Unix tools do,
        # and keep Python from reporting the same error again when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
