"""Staff reports: unpaid lists (XLSX) and progress charts (PNG). No Telegram here."""
