"""Server-rendered pages, one module per part of the day: auth, queue, claims, manager, admin."""
