"""``python -m leaderboard``: rebuild the board (same as ``gmn-bench leaderboard``)."""
import argparse
import sys

from .cli import add_leaderboard_arguments, run_leaderboard

parser = argparse.ArgumentParser(prog="python -m leaderboard", description="Rebuild the gmn-bench leaderboard.")
add_leaderboard_arguments(parser)
sys.exit(run_leaderboard(parser.parse_args()))
