"""Intake: inbound payloads (web forms, CSV rows, and whatever plugins add: emails, chat
messages) become a matched or new customer, a logged interaction and, for a lead, an
assigned opportunity."""

from pycrm.intake.apply import IntakeResult, apply_inbound, take_in
from pycrm.intake.files import IntakeReport, intake_csv
from pycrm.intake.forms import FORM_FIELDS, CsvRowChannel, FormChannel, WebFormChannel
from pycrm.intake.inbound import Inbound, IntakeChannel
from pycrm.intake.registry import IntakeChannels

__all__ = [
    "FORM_FIELDS",
    "CsvRowChannel",
    "FormChannel",
    "Inbound",
    "IntakeChannel",
    "IntakeChannels",
    "IntakeReport",
    "IntakeResult",
    "WebFormChannel",
    "apply_inbound",
    "intake_csv",
    "take_in",
]
