"""The attendance summary and the assembly report: what goes into the report (report), the
files people use (files: CSV, XLSX, PDF), the jobs the secretariat asks for (jobs) and how a
worker builds them (building)."""
