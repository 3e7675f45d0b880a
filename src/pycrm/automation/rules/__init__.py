"""The built-in automation rules, one module per area; each module's ``RULES`` holds its
rules with their default settings."""
