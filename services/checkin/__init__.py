"""The venue day: badge codes and badge PDFs (badges, printing, jobs), check-in and its undo
(desk), who may check in (staff), the board's counts and version (board), and attendance on
the check-in basis (presence)."""
