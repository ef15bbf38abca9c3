"""Figures 4-8 of the paper (and the WTA / dropout ablation) from real runs; the
command line around them is ``python -m benchmarks.figures``.

* ``fig4`` -- the error of the stochastic multiplication, measured with the
  library's own rule;
* ``fig5`` -- the sorted, normalised output distribution (raw, softmax, WTA);
* ``records`` -- Figs. 6-8 and the ablation, collected from the result files of
  ``benchmarks/accuracy.py``, and the protocols their runs train with;
* ``plots`` -- the PNGs (matplotlib, Agg);
* ``report`` -- the markdown of ``RESULTS.extra.md``.
"""
