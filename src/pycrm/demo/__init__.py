"""The ``pycrm demo`` sample: realistic generated data loaded in bulk, and a summary of it.

:func:`load` fills a CRM through the bulk path; :func:`summarize` reads it back into aligned
text tables. Both are lists of steps (:data:`LOAD_STEPS`, :data:`SECTIONS`) so a capability
added later brings its own data and its own section.
"""

from pycrm.demo.sample import DEMO_ACTOR, DEMO_NOW, LOAD_STEPS, LoadStep, SampleContext, load
from pycrm.demo.summary import SECTIONS, Block, Section, SummaryContext, summarize

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
]
