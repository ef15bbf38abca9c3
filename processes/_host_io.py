"""Per-sample control and host I/O shared by the SSNN-BP processes.

Every SSNN-BP process runs on a sample clock: sample ``g`` occupies the time
steps ``g*T + 1 .. (g+1)*T`` (Lava's ``time_step`` starts at 1), and all
per-sample state is reset at the first of them.

Two ways to drive a process:

* **standalone** (``host_io=False``, the default): the process reads its
  ``learn`` / ``record`` Vars, and its ``sample_id`` Var names the random
  streams of the first sample; each later sample uses the next integer.
* **host I/O** (``host_io=True``, what :class:`lava_ssnnbp.network.SSNNBPNetwork`
  uses): Lava's external pipes (the mechanism behind ``lava.proc.io.injector``
  and ``extractor``) connect the process to the Python host. At the first step
  of every sample the model receives one control message
  ``[sample_id, learn, record, payload...]`` on ``ctrl_in`` (the payload is
  the image/event frames for ``SpikeInput`` and the label for
  ``TargetGenerator``), and at the last step it sends its per-sample outputs
  (spike records, output counts) on its ``*_out`` pipes. The host must push
  exactly one control message per sample before running it and drain the
  output pipes; pipes hold ``io_depth`` messages, so run at most ``io_depth``
  samples per ``run`` call. Whole arrays travel as one message, unlike
  ``Var.get``/``Var.set``, which Lava 0.10 transfers one element at a time.
"""
from __future__ import annotations

CTRL_SAMPLE_ID = 0
CTRL_LEARN = 1
CTRL_RECORD = 2
CTRL_LEN = 3          # header length; SpikeInput/TargetGenerator append a payload


def flag_pipe(port, host_io: bool, io_depth: int):
    """Flag ``port`` as an external pipe of ``io_depth`` messages when ``host_io``."""
    if host_io:
        if int(io_depth) < 1:
            raise ValueError(f"io_depth must be >= 1, got {io_depth}")
        port.flag_external_pipe(buffer_size=int(io_depth))
    return port
