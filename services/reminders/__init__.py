"""Reminders: when they are due (timing), who gets them (audience), what they say (messages),
keeping them (editing, defaults) and turning them into mail (sweep)."""
