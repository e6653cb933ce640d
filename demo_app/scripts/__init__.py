"""Console scripts of the demo (``initialize_demo_db``)."""
