import sys

from jobs.metrics.job import main

sys.exit(main())
