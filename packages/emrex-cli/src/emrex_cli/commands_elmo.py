"""`emrex validate|decode|encode|verify|show`: working with ELMO documents and wire values."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    del sub
