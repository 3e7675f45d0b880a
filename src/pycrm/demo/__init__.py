"""The ``pycrm demo`` sample: realistic generated data loaded in bulk, and a summary of it.

:func:`load` fills a CRM through the bulk path; :func:`summarize` reads it back into aligned
text tables. Both are lists of steps (:data:`LOAD_STEPS`, :data:`SECTIONS`) so a capability
added later brings its own data and its own section.
"""

from pycrm.demo.grading import churn_risk, grades, rfm_segments
from pycrm.demo.management import management, write_plots
from pycrm.demo.sample import DEMO_ACTOR, DEMO_NOW, LOAD_STEPS, LoadStep, SampleContext, load
from pycrm.demo.service import add_tickets, service_desk
from pycrm.demo.summary import SECTIONS, Block, Section, SummaryContext, audit_example, summarize

# Grading and the service desk bring their own sections, shown before the audit trail
# that closes the summary.
SECTIONS[SECTIONS.index(audit_example) : SECTIONS.index(audit_example)] = [
    grades,
    rfm_segments,
    churn_risk,
    service_desk,
]
# The management summary of the last full month closes the summary.
SECTIONS.append(management)
# The service desk brings its tickets, loaded after the customers and contacts they name.
LOAD_STEPS.append(add_tickets)

__all__ = [
    "DEMO_ACTOR",
    "DEMO_NOW",
    "LOAD_STEPS",
    "SECTIONS",
    "Block",
    "LoadStep",
    "SampleContext",
    "Section",
    "SummaryContext",
    "load",
    "summarize",
    "write_plots",
]
