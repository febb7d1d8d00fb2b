"""The report's sections, each built from the suppressed records (and the spec).

One module per part of the report: ``therapy`` (treatment patterns), ``destinations`` (the
therapy after the index treatment, seed 001 Fig. 1), ``pathways`` (Sankey, sunburst, swimmer
plot), ``levels`` (the level tables they share), ``response``, ``survival`` (Kaplan–Meier
endpoints, forest plots), ``efficacy`` (seed 001's Table 2), ``after_index`` (outcomes by HSCT
after index), ``incidence`` (cumulative incidence), ``safety`` and ``methods``.
:mod:`allrwe.report.structure` puts them in order.
"""
