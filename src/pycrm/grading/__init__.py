"""Who the valuable customers are: segment expressions, grade schemes, loyalty, RFM, churn.

Pure domain: nothing here does I/O. Stores evaluate the same expressions where their data
lives (``pycrm.storage``), and the session and CRM tie the two together.
"""
