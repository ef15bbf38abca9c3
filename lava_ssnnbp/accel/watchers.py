"""Who wants to hear that the loops start compiling: the callbacks of
:func:`lava_ssnnbp.accel.compile_notice`, which :mod:`lava_ssnnbp.accel.cache` calls.
A module of its own so that the package and its cache both import it, neither the other."""
compile_watchers = []
