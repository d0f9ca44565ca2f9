"""The always-on service: watch the library roots, queue the work, work the queue."""
