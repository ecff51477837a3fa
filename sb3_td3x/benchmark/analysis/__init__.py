"""
The benchmark's reports, from the result files of finished runs alone: the runs read and checked
(:mod:`~sb3_td3x.benchmark.analysis.runs`), their statistics (:mod:`~sb3_td3x.benchmark.analysis.stats`), the tasks'
completion rules (:mod:`~sb3_td3x.benchmark.analysis.tasks`), the plots (:mod:`~sb3_td3x.benchmark.analysis.plots`),
a long budget's extra sections (:mod:`~sb3_td3x.benchmark.analysis.long_budget`) and the report that puts them together
(:mod:`~sb3_td3x.benchmark.analysis.report`; ``python -m sb3_td3x.benchmark --report-only``).

Nothing here imports the runner (:mod:`sb3_td3x.benchmark.running`): a report is rebuilt from committed files on a
machine that trains nothing.
"""
