"""One torch thread for every test, as the benchmark and the README's commands use: the networks are small, and on a
2-core machine shared with other work, torch's default of one thread per core makes each step many times slower."""

import torch as th

th.set_num_threads(1)
