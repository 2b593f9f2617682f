"""Domain terms that templates translate from raw enum values, e.g. ``_(a.status.value)``.

Extraction cannot see a msgid that only exists at run time, so each value is
marked here (N_-style, never evaluated for display) to keep it in the catalogue.
Each msgid is the raw enum value exactly as stored, underscores included.
This module is only read by ``pybabel extract``; nothing needs to import it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TERMS = (
    # models/assembly.py AssemblyStatus
    _l("draft"),
    _l("open"),
    _l("closed"),
    # models/assembly.py Quorum
    _l("none"),
    _l("half"),
    _l("majority"),
    _l("two_thirds"),
    # models/delegation.py DelegationStatus
    _l("undecided"),
    _l("attending"),
    _l("absent"),
    # models/delegation.py DelegateRole
    _l("representative"),
    _l("delegate"),
    _l("staff"),
    _l("performer"),
    _l("interpreter"),
    _l("press"),
    _l("observer"),
    # models/delegation.py DelegateStatus ("cancelled" is also an ItemStatus)
    _l("registered"),
    _l("confirmed"),
    # models/programme.py ItemKind
    _l("ceremony"),
    _l("plenary"),
    _l("policy_dialogue"),
    _l("field_trip"),
    _l("reception"),
    _l("meal"),
    _l("press_conference"),
    _l("meeting"),
    _l("side_event"),
    _l("other"),
    # models/programme.py ItemStatus
    _l("scheduled"),
    _l("cancelled"),
    # models/user.py Role ("delegate" is listed with DelegateRole above)
    _l("secretariat"),
    _l("liaison"),
)
