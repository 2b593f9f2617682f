"""WSGI entry point: `gunicorn webapp.wsgi:app`."""

from webapp import create_app_or_exit

app = create_app_or_exit()
