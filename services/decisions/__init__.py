"""The assembly's outcome: decisions put to the assembly with the attendance frozen
(`snapshot`), their lifecycle (`lifecycle`), the votes of member cities including those cast
through proxy letters (`votes`), the signatories of a declaration (`signatories`) and the
minutes of each programme item (`minutes`).

Each state change is one plain function taking a Session and the acting user; it validates,
writes and flushes (the caller commits), so an audit trail can wrap them later.
"""
