"""The benchmark scripts (outside the library: ``lava_ssnnbp`` never imports them).

Each runs from the repository root as ``python -m benchmarks.NAME`` and writes its
numbers to ``benchmarks/results/`` (``python -m benchmarks.make_results`` turns them
into ``RESULTS.md``). ``result_files`` is what they share to write a result;
``paper_figures`` holds the numbers and plots behind the paper's figures
(``python -m benchmarks.figures``)."""
