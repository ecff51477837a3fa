"""
Running the benchmark: the process pool that trains each (configuration, seed) through RL Zoo, resumes killed runs from
their checkpoints and files the finished runs' result files (:mod:`~sb3_td3x.benchmark.running.runner`), and the
training process of one run (``python -m sb3_td3x.benchmark.running.train``). The command line is
``python -m sb3_td3x.benchmark``; what a run leaves, and where, is :mod:`sb3_td3x.benchmark.layout`.
"""
