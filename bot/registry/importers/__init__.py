"""Importers for the offices' roster and payment files (CSV in UTF-8/GBK, or XLSX).

    from bot.registry.importers import import_roster, import_payments, ImportFileError
    report = import_roster("花名册.csv", "tengzhou")          # ImportReport
    report = import_payments("缴费.xlsx", 2024, locality="wuhe")

Formats, validation rules and the one-transaction-per-file choice: docs/import-formats.md.
"""

from bot.registry.importers.payments import import_payments
from bot.registry.importers.readers import ImportFileError
from bot.registry.importers.report import ImportReport
from bot.registry.importers.roster import import_roster

__all__ = ["ImportFileError", "ImportReport", "import_payments", "import_roster"]
