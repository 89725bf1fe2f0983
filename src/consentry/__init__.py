"""consentry: a consent ledger and contact-permission engine (AVG/GDPR, Telecommunicatiewet)."""
