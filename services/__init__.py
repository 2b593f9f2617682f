"""Use-case functions over the domain model, called by the web app, the CLI and the tasks."""
