"""The fault app for a real server (waitress, gunicorn --preload): URLs from FAULTS_WRITER_URL / FAULTS_READER_URL."""

import os

from .app import make_app

app = make_app(os.environ["FAULTS_WRITER_URL"], os.environ["FAULTS_READER_URL"])
