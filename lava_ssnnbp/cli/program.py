"""``main``: the ``ssnnbp`` program's exit codes, one-line errors and signals."""
from __future__ import annotations

import os
import signal
import sys
import threading

from ..config import ConfigError
from .options import UsageError, naming_option
from .starting import interrupted_while_starting


def main(argv=None) -> int:
    """The ``ssnnbp`` command: its exit code (0 done, 1 a fault while running, 2 bad input,
    130 interrupted). Every error is one line on stderr."""
    program = threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) is interrupted_while_starting
    if program:
        signal.signal(signal.SIGINT, signal.default_int_handler)   # from here Ctrl-C unwinds and is reported
        for sig in (signal.SIGTERM, signal.SIGHUP):   # stopped or its terminal closed: clean up as for Ctrl-C
            signal.signal(sig, _terminated)
    try:
        return _reported(argv)
    finally:
        if program:   # done: a Ctrl-C while the interpreter exits changes nothing (it ended in -2, no line)
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _reported(argv) -> int:
    """``_main``'s exit code, every exception that ends it turned into its one line and code."""
    try:
        code = _main(argv)
        try:
            sys.stdout.flush()   # a full or closed stdout fails here, not in the interpreter's exit
        except OSError as e:
            if isinstance(e, BrokenPipeError):
                raise
            _silence_stdout()
            print(f"ssnnbp: error: cannot write to standard output ({e.strerror or e})", file=sys.stderr)
            return 1
        return code
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
        what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"ssnnbp: {what} (the last checkpoint is kept; run the same command to resume)", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:   # e.g. 'ssnnbp info | head': the reader left, nothing to report
        _silence_stdout()
        return 1
    except MemoryError as e:
        from ..memory import available_bytes, size
        avail = available_bytes()
        print(f"ssnnbp: error: out of memory ({e}); this process may use about "
              f"{size(avail) if avail is not None else 'an unknown amount'}: choose smaller sizes, fewer steps or "
              "a smaller batch, or free memory", file=sys.stderr)
        return 1
    except OSError as e:      # a full disk, a read-only or vanished folder, a full stdout, ...
        if not getattr(e, "filename", None) and _stdout_failed():
            _silence_stdout()
            print(f"ssnnbp: error: cannot write to standard output ({e.strerror or e})", file=sys.stderr)
        else:
            where = f" ({e.filename})" if getattr(e, "filename", None) else ""
            print(f"ssnnbp: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt so that the same clean-up
    runs (the Lava runtime stopped, its workers and shared memory gone); exit 128 + signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminated(signum, frame):
    signal.signal(signum, signal.SIG_IGN)   # once: a second one must not interrupt the clean-up
    raise Terminated(signum)


def _stdout_failed() -> bool:
    try:
        sys.stdout.write("\n")   # stdout's buffer may have been dropped by the failed flush: try again
        sys.stdout.flush()
        return False
    except (OSError, ValueError, AttributeError):
        return True


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv=None) -> int:
    from ..data import DataError
    from ..errors import RunFault
    from ..lifecycle import WorkerDied
    from ..runs import RunError
    from .info import cmd_info, cmd_presets
    from .parser import build_parser
    from .train import cmd_evaluate, cmd_train
    parser = build_parser()
    commands = {"train": cmd_train, "evaluate": cmd_evaluate, "info": cmd_info,
                "presets": lambda args: cmd_presets(args, parser)}
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        try:
            return commands[args.command](args)
        except RunFault as e:   # the machine failed the run (a full disk, ...): not bad input
            print(f"ssnnbp: error: {e}", file=sys.stderr)
            return 1
        except (ConfigError, RunError) as e:
            raise UsageError(naming_option(str(e), parser.options[args.command])) from None
    except (UsageError, DataError) as e:
        print(f"ssnnbp: error: {e}", file=sys.stderr)
        return 2
    except WorkerDied as e:   # not bad input: the run failed (e.g. the OOM killer)
        print(f"ssnnbp: error: {e}; the last checkpoint is kept (run the same command to resume)", file=sys.stderr)
        return 1
