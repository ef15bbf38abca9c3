"""The SIGINT handler while ``ssnnbp`` loads its modules: a plain module (os only), so that
the package can install it before it imports numpy."""
import os


def interrupted_while_starting(signum, frame):
    os.write(2, b"ssnnbp: interrupted (while starting; nothing was written)\n")
    os._exit(130)
